"""Every Bot API call leaves through the outbox: paced to Telegram's limits, with Telegram's
everyday refusals and hiccups handled as the normal traffic they are.

Messages (send…, edit…, copy…, forward…, and answerCallbackQuery):
- Pacing: a chat gets at most `chat_rate` messages a second (after a burst of `chat_burst`, as
  Telegram allows) and the bot `global_rate` a second in all (after a burst of as many; a
  message takes its place in that when its chat's pace lets it go, so one chat's backlog
  holds up no other chat). A message over the pace is queued, never refused; an outgoing
  album counts as one message per picture, as Telegram counts it. The pace is kept per process.
- 429 Too Many Requests: the message is sent again after Telegram's `retry_after` (at most an
  hour; one that is not a number counts as 1 s), and the chat's other messages wait behind it,
  then follow at the chat's pace without a burst, so the chat still reads in order.
- A 5xx, an answer that is not JSON, a timeout or a broken connection: sent again later, with
  growing pauses, still before the chat's later messages (a message whose answer was lost may
  then arrive twice; never zero times). A chat's queued messages always leave in order.
- 403 (blocked, deactivated, kicked): the chat is reported unreachable; nothing is retried.
- 400 "message is not modified", "message to edit not found", "query is too old": there is
  nothing left to do, so the call counts as done.
Other calls (getFile, setWebhook, …) need their answer now: they are made at once and their
failures, 429 included, are the caller's.

Nothing waits on the request path: a message that must wait is queued for the outbox's sender
threads, and the handler gets a placeholder result at once: a message with message_id 0. So the
chat code never uses a sent message's id (to edit it later, say): an edit of message 0 would
fail as "message to edit not found", which is ignored. A background job
(`webapp.jobs.in_background`) waits for its queued call instead, for about `wait_limit` seconds,
and gets Telegram's real answer (after that, a placeholder; the call still goes out). A job
that must know its messages reached Telegram (an album) makes them inside `watch()` and hears
with `on_settled()` whether they went out or were given up, without waiting for it.
Queued calls live in memory; with REDIS_URL, queued messages are also written to Redis (see
bot.outbox.journal), and those of a process that died are adopted and sent by another. Without
it, a process stopped while some are queued loses those (an album is sent again by its delivery
job either way; see webapp.services.callbacks).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from bot.outbox.answer import ANSWERABLE, WebhookAnswer, unheld, webhook_answer
from bot.outbox.calls import (
    STALE,
    Call,
    chat_of,
    json_body,
    ok,
    optional,
    optional_calls,
    placeholder,
    refusal,
    weight,
)
from bot.outbox.pace import Pace
from bot.outbox.queue import SendQueue
from webapp.clock import Clock
from webapp.jobs import in_background

__all__ = [
    "Outbox",
    "Pace",
    "WebhookAnswer",
    "optional",
    "refusal",
    "unheld",
    "webhook_answer",
]

log = logging.getLogger("telegram")

MAX_RETRY_AFTER = 3600.0  # seconds; a larger retry_after is not Telegram's
REQUEST_TIMEOUT = (5, 10)  # a message sent from the request path: keep the webhook quick


class Outbox(SendQueue):
    """telebot's CUSTOM_REQUEST_SENDER (through bot.telegram): `request(...)` makes or queues
    one Bot API call."""

    def __init__(
        self,
        send: Callable[..., object],
        pace: Pace | None = None,
        on_unreachable: Callable[[int], None] | None = None,
        wait_limit: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(pace, wait_limit, clock)
        self._send = send  # like requests: (method, url, params=, files=, timeout=, proxies=)
        self.on_unreachable = on_unreachable
        self.api_url = ""  # "{base}/bot{0}/{1}", set by bot.telegram.connect

    # the telebot hook -------------------------------------------------------------------------

    def request(self, method, url, params=None, files=None, timeout=None, proxies=None):
        """Make the call now, or queue it; see the module's docstring for the policy."""
        call = Call(method, url, params, files, timeout, proxies)
        call.method = url.rsplit("/", 1)[-1]
        call.chat = chat_of(call.method, params)
        call.weight = weight(call.method, params)
        call.optional = optional_calls.get()
        answer = None if in_background.get() else webhook_answer.get()
        if answer is not None and answer.held is not None:
            if call.chat == answer.chat or call.method == "answerCallbackQuery":
                answer.held.append(call)  # a reply: it leaves once its update is done
                return placeholder(call)
        return self._dispatch(call, answer)

    def carry(self, answer: WebhookAnswer) -> dict | None:
        """Before the update's done mark: its one message, if that is all it sends and it may
        go now, moves from the held ones into the webhook's answer; that answer (None: it
        carries nothing). Kept with the done mark, it is the answer to a redelivery too
        (Telegram delivers an update again only when it never got the first answer)."""
        held = answer.held or []
        if not (answer.open and len(held) == 1):
            return None
        call = held[0]
        if call.files or call.method not in ANSWERABLE:
            return None
        with self._cond:
            if self._queued[call.chat]:  # its chat has messages waiting: it goes after them
                return None
            at = self.clock.monotonic()
            call.due = self._book(call, at)
            if call.due > at:  # over the pace: queued once the update is done
                return None
        held.clear()
        answer.open, answer.call = False, call
        log.info("%s in the webhook answer", call.method)
        return answer.json()

    def release(self, answer: WebhookAnswer, send: bool = True) -> list[tuple[Call, object]]:
        """The update is done: its held messages leave, in order, as if made now (the first
        may ride in the webhook answer). `send` False: the update was not finished here (its
        claim was taken over, or the store refused the done mark): they are dropped, and sent
        by whichever process handles it again. What Telegram refused (a 4xx: the handler that
        made the call got a placeholder and never heard of it): (call, response) each."""
        held, answer.held = answer.held or [], None
        answer.open = False  # what `carry` did not put in the answer is sent by us
        if not send:
            answer.call = None  # nor what the answer was to carry
            if held:
                log.warning("%s messages held back: their update was not finished here",
                            len(held))  # fmt: skip
            return []
        refused = []
        for call in held:
            response = self._dispatch(call, answer)
            if getattr(response, "status_code", 200) >= 400:
                refused.append((call, response))
        return refused

    def _dispatch(self, call: Call, answer: WebhookAnswer | None):
        if answer is not None:
            self.flush(answer)  # a call held before this one goes first
        if call.chat is None and call.method != "answerCallbackQuery":
            return self._send_call(call)  # its caller needs the answer itself, 429 or not
        with self._cond:
            call.seq = next(self._seq)
            at = self.clock.monotonic()
            # (booked already when it might have ridden in the answer)
            due = call.due if call.due is not None else self._book(call, at)
            queue = bool(self._queued[call.chat]) or due > self.clock.monotonic()
            if queue:
                self._enqueue(call, due)
        if queue:
            self._keep(call)
            return self._outcome(call)
        if (
            answer is not None
            and answer.open
            and not call.files
            and call.method in ANSWERABLE
            and (answer.chat is None or call.chat == answer.chat)  # not another chat's message:
        ):  # its sender needs Telegram's answer (an admin's /reply to a user who blocked us)
            answer.open, answer.call = False, call  # the webhook's answer carries it
            log.info("%s in the webhook answer", call.method)
            return placeholder(call)
        if not in_background.get():
            call.timeout = REQUEST_TIMEOUT
        response = self._attempt(call)
        if response is not None:
            return response
        with self._cond:  # a 429 or a hiccup: queued until it may be tried again
            self._enqueue(call, call.retry_at)
        self._keep(call)
        return self._outcome(call)

    def _book(self, call: Call, at: float) -> float:
        """When a call made at `at` may go: by its chat's pace and, if that is now, by the
        bot's (booked; a call its chat holds back books that when it is due: see _next)."""
        if call.chat is None:
            return at
        due = self.pacer.reserve(call.chat, call.weight, at)
        if due <= at:
            call.paced = True
            due = self.pacer.take(call.weight, at)
        return due

    def flush(self, answer: WebhookAnswer) -> None:
        """Send the call the webhook's answer holds now, as any message (a second call of the
        update, or an update that failed); no call is held after this one. Calls made before
        any was held (a getFile, say) were answered already: they do not close the answer."""
        if answer.call is None:
            return
        held, answer.call, answer.open = answer.call, None, False
        held.timeout = REQUEST_TIMEOUT
        if self._attempt(held) is None:
            with self._cond:  # a 429 or a hiccup: queued until it may be tried again
                held.seq = next(self._seq)
                self._enqueue(held, held.retry_at)
            self._keep(held)

    def adopt(self) -> int:
        """Queue the messages a stopped process of the app left in the journal (the sweep
        calls this); how many."""
        journal = self.journal
        if journal is None:
            return 0
        adopted = sorted(journal.orphans(), key=lambda found: found[1].get("at", 0))
        for entry_id, entry in adopted:  # in the order they were queued
            params = entry.get("params") or {}
            call = Call(entry.get("http") or "post", journal.url(entry["method"]), params,
                        None, None, None)  # fmt: skip
            call.method, call.journal_id = entry["method"], entry_id
            call.chat = chat_of(call.method, params)
            call.weight = weight(call.method, params)
            with self._cond:
                call.seq = next(self._seq)
                self._enqueue(call, self._book(call, self.clock.monotonic()))
        if adopted:
            log.warning("sending %s messages a stopped process had queued", len(adopted))
        return len(adopted)

    # making calls -----------------------------------------------------------------------------

    def _send_call(self, call: Call):
        """One HTTP call, the files read from their start (a retried upload)."""
        for value in (call.files or {}).values():
            stream = value[1] if isinstance(value, tuple) and len(value) > 1 else value
            if hasattr(stream, "seek"):
                stream.seek(0)
        return self._send(
            call.http_method,
            call.url,
            params=call.params,
            files=call.files,
            timeout=call.timeout,
            proxies=call.proxies,
        )

    def _attempt(self, call: Call):
        """Send a message once: a response for telebot, or None when it must be tried again
        (a 429 or a hiccup; `retry_at` says when)."""
        call.attempts += 1
        try:
            response = self._send_call(call)
        except Exception as exc:  # a timeout or a broken connection
            log.warning("%s failed: %s; trying again later", call.method, type(exc).__name__)
            return self._again(call, min(2**call.attempts, 60))
        if response.status_code == 200 and response.text.lstrip()[:1] == "{":
            return response
        body = json_body(response)
        code = body.get("error_code", response.status_code)
        description = body.get("description") or ""
        if code == 429:
            retry_after = (body.get("parameters") or {}).get("retry_after")
            if not isinstance(retry_after, int | float) or not math.isfinite(retry_after):
                retry_after = 1  # (JSON allows NaN and Infinity: never a time to wait for)
            log.info("%s: telegram 429, again in %ss", call.method, retry_after)
            return self._again(call, min(max(retry_after, 0), MAX_RETRY_AFTER), hold=True)
        if code >= 500 or not body or response.status_code == 200:  # 200 but not JSON: a proxy
            log.warning("%s: telegram answered %s; trying again later", call.method, code)
            return self._again(call, min(2**call.attempts, 60))
        if code == 403 and call.chat is not None:
            log.info("chat=%s is unreachable (403); not retried", call.chat)
            self.drop(call.chat)  # the rest would be refused the same way
            if self.on_unreachable and call.chat > 0:
                try:
                    self.on_unreachable(call.chat)
                except Exception as exc:  # the store is down: the next 403 marks them
                    log.warning("chat=%s not marked unreachable (%s)", call.chat,
                                type(exc).__name__)  # fmt: skip
        elif code == 400 and any(s in description for s in STALE):
            log.info("%s: %s; nothing to do", call.method, description)
            return ok(True)
        return response

    def _again(self, call: Call, seconds: float, hold: bool = False) -> None:
        """Plan another try; after a 429 the whole chat waits as long."""
        call.retry_at = self.clock.monotonic() + seconds
        call.paced = False  # the next try takes a slot in the bot's pace of its own
        call.held = hold and call.chat is not None
        if call.held:
            with self._cond:  # (a second, shorter 429 does not put it behind its chat's others)
                call.retry_at = max(call.retry_at, self.pacer.held_until(call.chat))
                self.pacer.hold(call.chat, call.retry_at)
                self._reslot(call.chat)
        return None
