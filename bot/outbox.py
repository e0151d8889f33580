"""Every Bot API call leaves through the outbox: paced to Telegram's limits, with Telegram's
everyday refusals handled as the normal traffic they are.

- Pacing: a chat gets at most `chat_rate` messages a second (after a short burst, as Telegram
  allows) and the bot `global_rate` a second in all. A message over the pace is queued, never
  refused; an album counts as one message per picture.
- 429 Too Many Requests: the call is made again after Telegram's `retry_after`. The chat's later
  messages wait behind it, so they still arrive in order.
- 403 (blocked, deactivated, kicked): the chat is reported unreachable; nothing is retried.
- 400 "message is not modified", "message to edit not found", "query is too old": there is
  nothing left to do, so the call counts as done.

Nothing waits on the request path: a reply that must wait (its chat's pace, a 429) is queued for
the outbox's own thread, and the handler gets a placeholder result at once (message_id 0; the
chat code never reads a sent message back). A background job (`webapp.jobs.in_background`)
waits for its queued call instead, at most `wait_limit` seconds, and gets Telegram's real answer.
Queued calls live in memory: a process stopped while some are queued loses those.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from telebot.apihelper import ApiTelegramException
from telebot.util import CustomRequestResponse

from webapp.jobs import in_background

log = logging.getLogger("telegram")

# 400 descriptions that mean "already done" or "too late": never worth an error.
STALE = ("message is not modified", "message to edit not found", "query is too old")
MAX_ATTEMPTS = 8  # tries of one queued call before it is given up (each after its retry_after)


def refusal(exc: BaseException) -> str | None:
    """What kind of everyday Telegram refusal `exc` is: flood, unreachable, stale, or None."""
    if not isinstance(exc, ApiTelegramException):
        return None
    if exc.error_code == 429:
        return "flood"
    if exc.error_code == 403:
        return "unreachable"
    if exc.error_code == 400 and any(s in (exc.description or "") for s in STALE):
        return "stale"
    return None


@dataclass
class _Call:
    """One Bot API call, as telebot hands it to its request sender."""

    http_method: str
    url: str
    params: dict | None
    files: dict | None
    timeout: object
    proxies: object
    method: str = ""  # the Bot API method, from the URL
    chat: int | None = None  # the chat a message goes to
    weight: int = 1  # how many messages it counts as
    attempts: int = 0
    retry_at: float = 0.0  # after a 429 or a network error: when to try again
    future: Future = field(default_factory=Future)


@dataclass(frozen=True)
class Pace:
    """Telegram's sending limits: per chat (after a burst) and for the whole bot."""

    chat_rate: float = 1.0
    chat_burst: int = 3
    global_rate: float = 25.0


class Outbox:
    """telebot's CUSTOM_REQUEST_SENDER: `request(...)` makes or queues one Bot API call."""

    def __init__(
        self,
        send: Callable[..., object],
        pace: Pace = Pace(),
        on_unreachable: Callable[[int], None] | None = None,
        wait_limit: float = 30.0,
    ) -> None:
        self._send = send  # like requests: (method, url, params=, files=, timeout=, proxies=)
        self.pace = pace
        self.on_unreachable = on_unreachable
        self.wait_limit = wait_limit
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Call]] = []
        self._seq = itertools.count()
        self._queued: Counter[int | None] = Counter()  # calls queued or being sent, per chat
        self._chat_tat: dict[int, float] = {}  # per chat: when its pace is next free (GCRA)
        self._global_tat = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False

    # the telebot hook -------------------------------------------------------------------------

    def request(self, method, url, params=None, files=None, timeout=None, proxies=None):
        """Make the call now, or queue it; see the module's docstring for the policy."""
        call = _Call(method, url, params, files, timeout, proxies)
        call.method = url.rsplit("/", 1)[-1]
        call.chat = _chat_of(call.method, params)
        call.weight = _weight(call.method, params)
        if call.chat is not None or call.method == "answerCallbackQuery":
            with self._cond:
                due = self._reserve(call) if call.chat is not None else time.monotonic()
                queue = bool(self._queued[call.chat]) or due > time.monotonic()
                if queue:
                    self._enqueue(call, due)
            if queue:
                return self._outcome(call)
        response = self._attempt(call)
        if response is not None:
            return response
        with self._cond:  # Telegram said 429: the call is queued until retry_after
            self._enqueue(call, call.retry_at)
        return self._outcome(call)

    # pacing -----------------------------------------------------------------------------------

    def _reserve(self, call: _Call) -> float:
        """The earliest time `call` may go, given its chat's and the bot's pace; books it."""
        pace, now = self.pace, time.monotonic()
        chat_step, global_step = 1.0 / pace.chat_rate, 1.0 / pace.global_rate
        chat_tat = self._chat_tat.get(call.chat, 0.0)
        at = max(
            now,
            chat_tat - (pace.chat_burst - 1) * chat_step,
            self._global_tat - (pace.global_rate - 1) * global_step,
        )
        self._chat_tat[call.chat] = max(chat_tat, at) + call.weight * chat_step
        self._global_tat = max(self._global_tat, at) + call.weight * global_step
        if len(self._chat_tat) > 10_000:  # forget chats whose pace is long free again
            self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now}
        return at

    def _hold(self, chat: int | None, until: float) -> None:
        """After a 429, nothing new goes to this chat (without a chat: at all) until then."""
        if chat is None:
            self._global_tat = max(self._global_tat, until)
            return
        burst = (self.pace.chat_burst - 1) / self.pace.chat_rate
        self._chat_tat[chat] = max(self._chat_tat.get(chat, 0.0), until + burst)

    # making calls -----------------------------------------------------------------------------

    def _attempt(self, call: _Call):
        """Make the call once: a response for telebot, or None after a 429 (`retry_at` set)."""
        call.attempts += 1
        for value in (call.files or {}).values():  # a retried upload is read from its start
            stream = value[1] if isinstance(value, tuple) and len(value) > 1 else value
            if hasattr(stream, "seek"):
                stream.seek(0)
        response = self._send(
            call.http_method,
            call.url,
            params=call.params,
            files=call.files,
            timeout=call.timeout,
            proxies=call.proxies,
        )
        if response.status_code == 200:
            return response
        body = _json(response)
        code = body.get("error_code", response.status_code)
        description = body.get("description") or ""
        if code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            retry_after = retry_after if isinstance(retry_after, int | float) else 1
            log.info("%s: telegram 429, again in %ss", call.method, retry_after)
            call.retry_at = time.monotonic() + max(retry_after, 0)
            with self._cond:
                self._hold(call.chat, call.retry_at)
            return None
        if code == 403 and call.chat is not None:
            log.info("chat=%s is unreachable (403); not retried", call.chat)
            if self.on_unreachable and call.chat > 0:
                self.on_unreachable(call.chat)
        elif code == 400 and any(s in description for s in STALE):
            log.info("%s: %s; nothing to do", call.method, description)
            return _ok(True)
        return response

    def _enqueue(self, call: _Call, due: float) -> None:
        """Queue the call for the outbox thread (the caller holds the condition)."""
        heapq.heappush(self._heap, (due, next(self._seq), call))
        self._queued[call.chat] += 1
        self._cond.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="telegram-outbox", daemon=True)
            self._thread.start()

    def _outcome(self, call: _Call):
        """What the caller of a queued call gets: on the request path a placeholder at once; in
        a background job, Telegram's answer once the call is made (or a placeholder if that
        takes more than `wait_limit`)."""
        if not in_background.get():
            return _placeholder(call)
        try:
            return call.future.result(timeout=self.wait_limit + 5)
        except FutureTimeout:
            log.info("%s still queued after %ss; the job goes on", call.method, self.wait_limit)
            return _placeholder(call)

    def _run(self) -> None:
        """The outbox thread: make each queued call when it is due."""
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    if self._closed:
                        return
                    self._cond.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                _, _, call = heapq.heappop(self._heap)
            try:
                response = self._attempt(call)
            except Exception as exc:  # the network: tried again a little later
                log.warning("%s failed: %s", call.method, type(exc).__name__)
                response, call.retry_at = None, time.monotonic() + min(2**call.attempts, 60)
            with self._cond:
                if response is None and call.attempts < MAX_ATTEMPTS:
                    heapq.heappush(self._heap, (call.retry_at, next(self._seq), call))
                    continue
                self._queued[call.chat] -= 1
                if not self._queued[call.chat]:
                    del self._queued[call.chat]
                self._cond.notify_all()
            if response is None:
                log.warning("%s given up after %s attempts", call.method, call.attempts)
                response = _placeholder(call)
            elif response.status_code != 200:
                log.warning("%s refused: %s", call.method, _json(response).get("description"))
            call.future.set_result(response)

    # for tests and shutdown -------------------------------------------------------------------

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is queued or being sent; True when idle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queued:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (for up to `timeout` seconds), then stop the thread."""
        if not self.wait_idle(timeout):
            log.warning("outbox closed with %s calls unsent", sum(self._queued.values()))
        with self._cond:
            self._closed = True
            self._cond.notify_all()


# helpers ----------------------------------------------------------------------------------------


def _chat_of(method: str, params: dict | None) -> int | None:
    """The chat a message-sending call goes to (None for other calls)."""
    if not params or not method.startswith(("send", "edit", "copy", "forward")):
        return None
    if method == "sendChatAction":
        return None
    try:
        return int(params.get("chat_id"))
    except (TypeError, ValueError):
        return None


def _weight(method: str, params: dict | None) -> int:
    """How many messages a call counts as (an album: one per item)."""
    if method != "sendMediaGroup" or not params:
        return 1
    try:
        return max(1, len(json.loads(params.get("media") or "[]")))
    except (TypeError, ValueError):
        return 1


def _json(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _ok(result) -> CustomRequestResponse:
    return CustomRequestResponse(json.dumps({"ok": True, "result": result}))


def _placeholder(call: _Call) -> CustomRequestResponse:
    """What telebot gets for a call that is queued: success, with a stand-in message."""
    if call.chat is None or call.method.startswith("edit"):
        return _ok(True)
    message = {
        "message_id": 0,
        "date": int(time.time()),
        "chat": {"id": call.chat, "type": "private" if call.chat > 0 else "group"},
    }
    if call.method == "sendMediaGroup":
        return _ok([message] * call.weight)
    return _ok(message)
