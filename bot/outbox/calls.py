"""One Bot API call as the outbox handles it, what counts as a refusal, what telebot is given
for a call that is queued, and how a job hears that the calls it queued went out (watch,
on_settled)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from telebot.apihelper import ApiTelegramException
from telebot.util import CustomRequestResponse

log = logging.getLogger("telegram")

# 400 descriptions that mean "already done" or "too late": never worth an error.
STALE = ("message is not modified", "message to edit not found", "query is too old")


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
class Call:
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
    seq: int = -1  # its place in the order of calls (kept when it is queued again)
    attempts: int = 0
    retry_at: float = 0.0  # after a 429 or a transient failure: when to try again
    held: bool = False  # the failure was a 429: the whole chat waits
    given_up: bool = False  # tried MAX_ATTEMPTS times without an answer from Telegram
    watched: bool = False  # made inside Outbox.watch(): its job sees it through itself
    left: bool = False  # out of the queue for good: sent, refused, given up or dropped
    journal_id: str | None = None  # its entry in the journal (bot.outbox.journal), if written
    journal_sure: bool = True  # Redis said the entry was written (else it may not be there)
    due: float | None = None  # its pace was booked already (Outbox.carry): when it may go
    paced: bool = False  # its slot in the bot's pace is booked (else: when it is next due)
    optional: bool = False  # made inside optional(): a refusal of it is logged, not a failure
    future: Future = field(default_factory=Future)


def chat_of(method: str, params: dict | None) -> int | None:
    """The chat a message-sending call goes to (None for other calls)."""
    if not params or not method.startswith(("send", "edit", "copy", "forward")):
        return None
    if method == "sendChatAction":
        return None
    try:
        return int(params.get("chat_id"))
    except (TypeError, ValueError):
        return None


def weight(method: str, params: dict | None) -> int:
    """How many messages a call counts as (an album: one per item)."""
    if method != "sendMediaGroup" or not params:
        return 1
    try:
        return max(1, len(json.loads(params.get("media") or "[]")))
    except (TypeError, ValueError):
        return 1


def json_body(response) -> dict:
    """A Bot API answer's JSON object ({} when it is not one)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def ok(result) -> CustomRequestResponse:
    """A successful Bot API answer carrying `result`."""
    return CustomRequestResponse(json.dumps({"ok": True, "result": result}))


def placeholder(call: Call) -> CustomRequestResponse:
    """What telebot gets for a message that is queued: success, with a stand-in message."""
    if call.chat is None or call.method.startswith("edit"):
        return ok(True)
    message = {
        "message_id": 0,
        "date": int(time.time()),
        "chat": {"id": call.chat, "type": "private" if call.chat > 0 else "group"},
    }
    if call.method == "sendMediaGroup":
        return ok([message] * call.weight)
    return ok(message)


# Set by optional(): the calls made in that block may be refused without failing the update.
optional_calls: ContextVar[bool] = ContextVar("optional_calls", default=False)


@contextmanager
def optional():
    """The calls made inside this block are extras an update can do without (the pictures of
    a photoshoot, by URL: Telegram may fail to fetch them): a 4xx refusal of one is logged,
    and the update is not reported as failed."""
    token = optional_calls.set(True)
    try:
        yield
    finally:
        optional_calls.reset(token)


# Set by watch(): the calls queued in that block (bot.outbox.queue), for on_settled().
watched: ContextVar[list[Call] | None] = ContextVar("watched", default=None)


@contextmanager
def watch():
    """Collect the calls queued inside this block (in this thread or context): the list
    it yields, for `on_settled`."""
    calls: list[Call] = []
    token = watched.set(calls)
    try:
        yield calls
    finally:
        watched.reset(token)


def on_settled(calls: list[Call], callback: Callable[[bool], None]) -> None:
    """Call `callback(ok)` once every one of the queued `calls` has left the queue (at once
    if they all have): ok when Telegram took each of them (or their chat turned out
    unreachable: nothing is left to send), not when one was given up or refused. It runs
    on the sender thread that finished the last call, before that chat's next message."""
    if not calls:
        callback(True)
        return
    left = [len(calls)]
    lock = threading.Lock()

    def one(_future) -> None:
        with lock:
            left[0] -= 1
            if left[0]:
                return
        went = all(not c.given_up and c.future.result().status_code in (200, 403) for c in calls)
        try:
            callback(went)
        except Exception:  # never into the sender thread: it must go on sending
            log.exception("a callback for sent messages failed")

    for call in calls:
        call.future.add_done_callback(one)
