"""Critical errors told to the operators (ADMIN_CHAT_IDS), at most once per kind per window."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger("alerts")

WINDOW_SECONDS = 300.0


class Alerts:
    """`critical(kind, text)` logs always and messages the admins unless this kind was just sent.

    The window is per process: with several workers an admin may hear of one kind once per
    worker per window."""

    def __init__(
        self,
        send: Callable[[int, str], None] | None,
        admin_chat_ids: Iterable[int],
        window: float = WINDOW_SECONDS,
    ) -> None:
        self.send = send
        self.admins = tuple(admin_chat_ids)
        self.window = window
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def critical(self, kind: str, text: str) -> None:
        """Report a critical error of some kind (no secrets or user content in `text`)."""
        log.error("critical %s: %s", kind, text)
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -self.window) < self.window:
                return
            self._last[kind] = now
        if not self.send:
            return
        for chat_id in self.admins:
            try:
                self.send(chat_id, f"⚠️ {kind}: {text}")
            except Exception as exc:  # the alert channel itself is down: the log line remains
                log.warning("could not alert admin %s: %s", chat_id, type(exc).__name__)
