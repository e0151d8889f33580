"""Every Bot API call leaves through the outbox: paced to Telegram's limits, with Telegram's
everyday refusals and hiccups handled as the normal traffic they are.

Messages (send…, edit…, copy…, forward…, and answerCallbackQuery):
- Pacing: a chat gets at most `chat_rate` messages a second (after a burst of `chat_burst`, as
  Telegram allows) and the bot `global_rate` a second in all (after a burst of as many). A
  message over the pace is queued, never refused; an outgoing album counts as one message per
  picture, as Telegram counts it. The pace is kept per process.
- 429 Too Many Requests: the message is sent again after Telegram's `retry_after` (at most an
  hour), and the chat's other messages wait behind it, so the chat still reads in order.
- A 5xx, an answer that is not JSON, a timeout or a broken connection: sent again later, with
  growing pauses (a message whose answer was lost may then arrive twice; never zero times).
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

import heapq
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar

from bot.outbox.calls import STALE, Call, chat_of, json_body, ok, placeholder, refusal, weight
from bot.outbox.pace import Pace, Pacer
from webapp.jobs import in_background

__all__ = ["Outbox", "Pace", "WebhookAnswer", "refusal", "unheld", "webhook_answer"]

log = logging.getLogger("telegram")

MAX_ATTEMPTS = 8  # tries of one queued message before it is given up
MAX_RETRY_AFTER = 3600.0  # seconds; a larger retry_after is not Telegram's
SENDERS = 4  # threads sending queued messages: one slow call does not stall other chats
REQUEST_TIMEOUT = (5, 10)  # a message sent from the request path: keep the webhook quick
# Calls that may ride in the webhook's own HTTP answer (Telegram makes them): their result is
# not needed (a placeholder does) and they carry no files.
ANSWERABLE = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}
# JSON-serialized parameters (strings for a request's form) that are objects in a JSON answer
JSON_PARAMS = {"reply_markup", "entities", "link_preview_options", "reply_parameters"}
ID_PARAMS = {"chat_id", "message_id", "message_thread_id"}


class WebhookAnswer:
    """An update's messages, held until the update is done (`Outbox.release`: a message of an
    update cut short never leaves, so handled again it is sent once), and the one Bot API call
    its webhook answer may carry instead of a request of our own (`carry`): the first message,
    held until a second call of the same update sends it first (keeping their order), or until
    the webhook answers with it."""

    def __init__(self, carry: bool = True, chat: int | None = None) -> None:
        self.call: Call | None = None
        self.open = carry  # no call was made yet: the first may be held
        # the update's chat: its messages there (and button answers) wait for `release`
        self.chat = chat
        self.held: list[Call] | None = [] if chat is not None else None

    def json(self) -> dict | None:
        """The held call as the webhook's answer: {"method": …, its parameters}."""
        if self.call is None:
            return None
        params = dict(self.call.params or {})
        for key in JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        for key in ID_PARAMS & params.keys():  # telebot sends ids as text; JSON has numbers
            if isinstance(params[key], str) and params[key].lstrip("-").isdigit():
                params[key] = int(params[key])
        return {"method": self.call.method, **params}


# Set by the webhook for the update it runs (bot.update_handler): its answer may carry a call.
webhook_answer: ContextVar[WebhookAnswer | None] = ContextVar("webhook_answer", default=None)


def unheld(send: Callable) -> Callable:
    """`send` made outside the update being handled: its message leaves now, not with the
    update's (an admin's alert about this very update, which may never be finished)."""

    def outside(*args, **kwargs):
        token = webhook_answer.set(None)
        try:
            return send(*args, **kwargs)
        finally:
            webhook_answer.reset(token)

    return outside


# Set by Outbox.watch(): the calls queued in that block, for on_settled().
watched: ContextVar[list[Call] | None] = ContextVar("watched", default=None)


class Outbox:
    """telebot's CUSTOM_REQUEST_SENDER: `request(...)` makes or queues one Bot API call."""

    def __init__(
        self,
        send: Callable[..., object],
        pace: Pace | None = None,
        on_unreachable: Callable[[int], None] | None = None,
        wait_limit: float = 30.0,
    ) -> None:
        self._send = send  # like requests: (method, url, params=, files=, timeout=, proxies=)
        self.pacer = Pacer(pace or Pace())
        self.on_unreachable = on_unreachable
        self.wait_limit = wait_limit
        self.journal = None  # a bot.outbox.journal.RedisJournal with REDIS_URL
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Call]] = []
        self._seq = itertools.count()
        self._queued: Counter[int | None] = Counter()  # calls queued or being sent, per chat
        self._sending: set[int] = set()  # chats a sender thread is sending to right now
        self._threads: list[threading.Thread] = []

    # the telebot hook -------------------------------------------------------------------------

    def request(self, method, url, params=None, files=None, timeout=None, proxies=None):
        """Make the call now, or queue it; see the module's docstring for the policy."""
        call = Call(method, url, params, files, timeout, proxies)
        call.method = url.rsplit("/", 1)[-1]
        call.chat = chat_of(call.method, params)
        call.weight = weight(call.method, params)
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
            at = time.monotonic()
            call.due = self.pacer.reserve(call.chat, call.weight, at) if call.chat else at
            if call.due > at:  # over the chat's pace: queued once the update is done
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
            at = time.monotonic()
            if call.due is not None:  # booked when it might have ridden in the answer
                due = call.due
            else:
                due = (
                    self.pacer.reserve(call.chat, call.weight, at) if call.chat is not None else at
                )
            queue = bool(self._queued[call.chat]) or due > time.monotonic()
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
                self._enqueue(held, held.retry_at)
            self._keep(held)

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
            retry_after = retry_after if isinstance(retry_after, int | float) else 1
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
        call.retry_at = time.monotonic() + seconds
        call.held = hold and call.chat is not None
        if call.held:
            with self._cond:
                self.pacer.hold(call.chat, call.retry_at)
        return None

    def _enqueue(self, call: Call, due: float) -> None:
        """Queue the call for the sender threads (the caller holds the condition)."""
        heapq.heappush(self._heap, (due, call.seq, call))
        self._queued[call.chat] += 1
        calls = watched.get()
        if calls is not None:
            calls.append(call)
            call.watched = True
        self._cond.notify()
        if not self._threads:
            for n in range(SENDERS):
                thread = threading.Thread(target=self._run, name=f"outbox-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _outcome(self, call: Call):
        """What the caller of a queued call gets: on the request path a placeholder at once; in
        a background job, Telegram's answer once the call is made (or a placeholder if that
        takes more than about `wait_limit`)."""
        if not in_background.get():
            return placeholder(call)
        try:
            return call.future.result(timeout=self.wait_limit + 5)
        except FutureTimeout:
            log.info("%s still queued after %ss; the job goes on", call.method, self.wait_limit)
            return placeholder(call)

    def _next(self) -> Call:
        """Wait for the next call that is due, whose chat is neither being sent to nor waiting
        out a 429 (the condition is held)."""
        while True:
            now, skipped, found = time.monotonic(), [], None
            while self._heap and self._heap[0][0] <= now:
                entry = heapq.heappop(self._heap)
                chat = entry[2].chat
                held = self.pacer.held_until(chat)
                if held > now:  # a 429 on this chat: its calls move behind it, in order
                    heapq.heappush(self._heap, (held, entry[1], entry[2]))
                elif chat is not None and chat in self._sending:
                    skipped.append(entry)
                else:
                    found = entry[2]
                    break
            for entry in skipped:
                heapq.heappush(self._heap, entry)
            if found is not None:
                if found.chat is not None:
                    self._sending.add(found.chat)
                return found
            wait = self._heap[0][0] - now if self._heap and not skipped else None
            self._cond.wait(wait if wait is None else max(wait, 0.001))

    def _run(self) -> None:
        """A sender thread: make each queued call when it is due."""
        while True:
            call = None
            try:
                with self._cond:
                    call = self._next()
                if not self._take(call):  # another process sends it
                    self._finish(call, ok(True))
                    continue
                self._finish(call, self._attempt(call))
            except Exception:  # never let a sender die: the queue would stop for good
                log.exception("outbox sender failed")
                if call is not None and not call.future.done():  # release its chat: given up
                    call.attempts = MAX_ATTEMPTS
                    self._finish(call, None)

    def _finish(self, call: Call, response) -> None:
        """Queue the call again, or hand its answer to whoever waits for it."""
        with self._cond:
            self._sending.discard(call.chat)
            again = response is None and call.attempts < MAX_ATTEMPTS
            if again:
                heapq.heappush(self._heap, (call.retry_at, call.seq, call))
                self._cond.notify_all()
            else:
                call.left = True
        if again:
            self._keep(call)  # its entry was taken before the try: written again
            return
        self._forget(call)
        if response is None:  # Telegram unreachable for minutes: the operator's problem
            log.error("%s given up after %s attempts", call.method, call.attempts)
            call.given_up = True
            response = placeholder(call)
        elif response.status_code != 200:
            log.warning("%s refused: %s", call.method, json_body(response).get("description"))
        # the answer first (whoever waits for it may send the chat's next message), then the
        # call leaves the chat's queue: waiting for an idle outbox includes that
        call.future.set_result(response)
        with self._cond:
            if self._queued[call.chat] > 1:
                self._queued[call.chat] -= 1
            else:  # its last (or the queue was cleared meanwhile)
                self._queued.pop(call.chat, None)
            self._cond.notify_all()

    @staticmethod
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

    @staticmethod
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
            ok = all(not c.given_up and c.future.result().status_code in (200, 403) for c in calls)
            try:
                callback(ok)
            except Exception:  # never into the sender thread: it must go on sending
                log.exception("a callback for sent messages failed")

        for call in calls:
            call.future.add_done_callback(one)

    def clear(self) -> None:
        """Forget everything queued and every chat's pace (between tests: each has its own
        Bot API stand-in, and a call queued for an old one would only be tried in vain)."""
        with self._cond:
            dropped = [e[2] for e in self._heap]
            for call in dropped:
                call.left = call.given_up = True  # not sent: whoever watches it must know
            self._heap.clear()
            self._queued.clear()
            self.pacer.clear()
            self._cond.notify_all()
        for call in dropped:
            self._forget(call)
            call.future.set_result(placeholder(call))

    def drop(self, chat: int) -> int:
        """Forget the calls queued for a chat that can no longer be reached; how many."""
        with self._cond:
            mine = [e for e in self._heap if e[2].chat == chat]
            if not mine:
                return 0
            self._heap = [e for e in self._heap if e[2].chat != chat]
            heapq.heapify(self._heap)
            for _, _, call in mine:
                call.left = True
            self._queued[chat] -= len(mine)
            if not self._queued[chat]:
                del self._queued[chat]
            self._cond.notify_all()
        for _, _, call in mine:
            self._forget(call)
            call.future.set_result(placeholder(call))
        return len(mine)

    # the journal (REDIS_URL): queued messages outlive this process ------------------------------

    def _keep(self, call: Call) -> None:
        """Write a queued message to the journal (not a file, an album's or a button answer)."""
        journal = self.journal
        if journal is None or call.journal_id or call.files or call.watched or call.chat is None:
            return
        kept = journal.keep(call.method, call.http_method, call.params or {})
        if kept is None:
            return
        entry_id, call.journal_sure = kept
        with self._cond:  # a sender thread may have sent or journaled it meanwhile
            stale = call.left or call.journal_id is not None
            if not stale:
                call.journal_id = entry_id
        if stale:
            journal.forget(entry_id)

    def _take(self, call: Call) -> bool:
        """Before sending a journaled message: take its entry out of the journal. False when
        another process had adopted it (this process looked stopped): that one sends it."""
        with self._cond:
            entry_id, call.journal_id = call.journal_id, None
        if entry_id is None or self.journal is None:
            return True
        found = self.journal.take(entry_id)
        if found is False and call.journal_sure:
            log.info("%s was adopted by another process; not sent here", call.method)
            return False
        return True

    def _forget(self, call: Call) -> None:
        """The message left the queue (`left` set): out of the journal too."""
        with self._cond:
            entry_id, call.journal_id = call.journal_id, None
        if entry_id and self.journal is not None:
            self.journal.forget(entry_id)

    def adopt(self) -> int:
        """Queue the messages a stopped process of the app left in the journal (the sweep
        calls this); how many."""
        journal = self.journal
        if journal is None:
            return 0
        adopted = journal.orphans()
        for entry_id, entry in adopted:
            params = entry.get("params") or {}
            call = Call(entry.get("http") or "post", journal.url(entry["method"]), params,
                        None, None, None)  # fmt: skip
            call.method, call.journal_id = entry["method"], entry_id
            call.chat = chat_of(call.method, params)
            call.weight = weight(call.method, params)
            with self._cond:
                call.seq = next(self._seq)
                at = time.monotonic()
                due = (
                    self.pacer.reserve(call.chat, call.weight, at) if call.chat is not None else at
                )
                self._enqueue(call, due)
        if adopted:
            log.warning("sending %s messages a stopped process had queued", len(adopted))
        return len(adopted)

    # for tests and a clean shutdown -----------------------------------------------------------

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
