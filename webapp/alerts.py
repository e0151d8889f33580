"""Critical errors told to the operators (ADMIN_CHAT_IDS), at most once per error *signature*
per window: the kind, the exception's type (with its code: two database errors are two
signatures) and the place in our code it came from. A flood of one error (say, a 500 anyone
can trigger) never hides another. With REDIS_URL the window is
shared by every worker and instance; without it, each process keeps its own."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from redis import Redis

from webapp.backoff import Backoff

log = logging.getLogger("alerts")

WINDOW_SECONDS = 300.0
ROOT = str(Path(__file__).resolve().parent.parent)


def place(exc: BaseException) -> str:
    """Where in our code an exception was raised: the innermost frame under the project."""
    found = "?"
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(ROOT) and "/site-packages/" not in frame.filename:
            found = f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno}"
    return found


def _what(exc: BaseException) -> str:
    """The exception's type and what tells two of that type apart: the code it carries (a
    StoreError's SQLSTATE or network error), else the type of the error it was raised from."""
    code = getattr(exc, "code", None)
    if code is None and exc.__cause__ is not None:
        code = type(exc.__cause__).__name__
    return type(exc).__name__ + (f":{code}" if code is not None else "")


class Alerts:
    """`critical(kind, text, exc)` logs always and messages the admins unless this signature
    was just sent."""

    def __init__(
        self,
        send: Callable[[int, str], None] | None,
        admin_chat_ids: Iterable[int],
        window: float = WINDOW_SECONDS,
        redis: Redis | None = None,
    ) -> None:
        self.send = send
        self.admins = tuple(admin_chat_ids)
        self.window = window
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._redis = redis  # the signatures sent lately, shared by every process
        self.redis_backoff = Backoff()  # Redis did not answer: this process counts alone a while

    def critical(self, kind: str, text: str, exc: BaseException | None = None) -> None:
        """Report a critical error (no secrets or user content in `text`)."""
        where = place(exc) if exc is not None else ""
        log.error("critical %s: %s%s", kind, text, f" ({where})" if where else "")
        signature = f"{kind}|{_what(exc) if exc else text}|{where}"
        if not self.send or not self.admins or not self._first(signature):
            return
        for chat_id in self.admins:
            try:
                self.send(chat_id, f"⚠️ {kind}: {text}")
            except Exception as exc_send:  # the alert channel itself is down: the log remains
                log.warning("could not alert admin %s: %s", chat_id, type(exc_send).__name__)

    def _first(self, signature: str) -> bool:
        """True when this signature was not alerted within the window (and claims it)."""
        if self._redis is not None and self.redis_backoff.up():
            key = "alert:" + hashlib.sha256(signature.encode()).hexdigest()[:32]
            try:
                return bool(self._redis.set(key, "1", nx=True, ex=int(self.window)))
            except Exception as exc:  # Redis down: fall back to this process's own window
                self.redis_backoff.failed()
                log.warning("alert throttle in Redis unavailable: %s", type(exc).__name__)
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(signature, -self.window) < self.window:
                return False
            self._last[signature] = now
            if len(self._last) > 1000:  # signatures are places in code; this is a safety net
                self._last = {s: t for s, t in self._last.items() if now - t < self.window}
        return True
