"""The outbox's queue and its sender threads (see bot.outbox for the policy they serve)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import Counter
from concurrent.futures import TimeoutError as FutureTimeout

from bot.outbox.calls import (
    Call,
    json_body,
    ok,
    on_settled,
    placeholder,
    watch,
    watched,
)
from bot.outbox.pace import Pace, Pacer
from webapp.clock import Clock
from webapp.jobs import in_background

log = logging.getLogger("telegram")

MAX_ATTEMPTS = 8  # tries of one queued message before it is given up
SENDERS = 4  # threads sending queued messages: one slow call does not stall other chats


class SendQueue:
    """The outbox's queue: calls due at a time, sent by a few sender threads, one chat at a time
    and in order; with a journal (REDIS_URL), queued messages are also kept in Redis. `Outbox`
    adds the policy: what is sent at once, what is queued, and what an answer means."""

    def __init__(
        self, pace: Pace | None = None, wait_limit: float = 30.0, clock: Clock | None = None
    ) -> None:
        self.pacer = Pacer(pace or Pace())
        self.wait_limit = wait_limit
        self.clock = clock or Clock()  # what pace, retry_after and retries are counted on
        self.journal = None  # a bot.outbox.journal.RedisJournal with REDIS_URL
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Call]] = []
        self._seq = itertools.count()
        self._queued: Counter[int | None] = Counter()  # calls queued or being sent, per chat
        self._order: dict[int, list[int]] = {}  # per chat, its queued calls' seqs (a heap)
        self._sending: set[int] = set()  # chats a sender thread is sending to right now
        self._threads: list[threading.Thread] = []
        self._closed = False

    def _enqueue(self, call: Call, due: float) -> None:
        """Queue the call for the sender threads (the caller holds the condition); once the
        queue is closed, the call is given up at once (logged), not left waiting for nobody."""
        if self._closed:
            log.warning("%s not sent: the app is closing", call.method)
            call.left = call.given_up = True
            call.future.set_result(placeholder(call))
            return
        self._push(due, call)
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

    def _push(self, due: float, call: Call) -> None:
        """A call joins the queue (the condition is held), behind its chat's earlier ones."""
        heapq.heappush(self._heap, (due, call.seq, call))
        if call.chat is not None:
            heapq.heappush(self._order.setdefault(call.chat, []), call.seq)

    def _first(self, call: Call) -> bool:
        """No earlier call of its chat is queued: it may go (a chat reads in order)."""
        seqs = self._order.get(call.chat)
        return not seqs or seqs[0] == call.seq

    def _reslot(self, chat: int) -> None:
        """A 429 holds the chat: its queued calls get new slots after the hold, in order and
        at its pace, each to take its place in the bot's pace again (the condition is held)."""
        mine = sorted((e for e in self._heap if e[2].chat == chat), key=lambda e: e[1])
        if mine:
            self._heap = [e for e in self._heap if e[2].chat != chat]
            held = self.pacer.held_until(chat)
            self._heap += [(self._behind(call, held), seq, call) for _, seq, call in mine]
            heapq.heapify(self._heap)
            self._cond.notify_all()

    def _behind(self, call: Call, held: float) -> float:
        """A new slot for a call of a held chat: after the hold, at the chat's pace; its place
        in the bot's pace is taken again when it is due."""
        call.paced = False
        return self.pacer.reserve(call.chat, call.weight, held)

    def _attempt(self, call: Call):
        """Send a queued call once: a response, or None to try again at `call.retry_at`."""
        raise NotImplementedError

    def _outcome(self, call: Call):
        """What the caller of a queued call gets: on the request path a placeholder at once; in
        a background job, Telegram's answer once the call is made (or a placeholder if that
        takes more than about `wait_limit`)."""
        if not in_background.get():
            return placeholder(call)
        try:
            return call.future.result(timeout=self.wait_limit)
        except FutureTimeout:
            log.info("%s still queued after %ss; the job goes on", call.method, self.wait_limit)
            return placeholder(call)

    def _next(self) -> Call | None:
        """Wait for the next call that is due, the first of its chat's, whose chat is neither
        being sent to nor waiting out a 429 (the condition is held); None once closed."""
        while not self._closed:
            now, skipped, found = self.clock.monotonic(), [], None
            while self._heap and self._heap[0][0] <= now:
                due, seq, call = heapq.heappop(self._heap)
                chat = call.chat
                held = self.pacer.held_until(chat)
                if held > due:  # booked before a 429 on its chat (_reslot did the others)
                    heapq.heappush(self._heap, (self._behind(call, held), seq, call))
                elif chat is not None and (chat in self._sending or not self._first(call)):
                    skipped.append((due, seq, call))
                else:
                    if chat is not None and not call.paced:  # its slot in the bot's pace, now
                        call.paced = True
                        go = self.pacer.take(call.weight, now)
                        if go > now:
                            heapq.heappush(self._heap, (go, seq, call))
                            continue
                    found = call
                    break
            for entry in skipped:
                heapq.heappush(self._heap, entry)
            if found is not None:
                if found.chat is not None:
                    self._sending.add(found.chat)
                    heapq.heappop(self._order[found.chat])  # (its seq: the chat's first)
                    if not self._order[found.chat]:
                        del self._order[found.chat]
                return found
            # the next call due that may go then (a send's end, or a new call, wakes us)
            due = [
                e[0]
                for e in self._heap
                if e[2].chat is None or (e[2].chat not in self._sending and self._first(e[2]))
            ]
            wait = min(due) - now if due else None
            self.clock.wait(self._cond, wait if wait is None else max(wait, 0.001))
        return None

    def _run(self) -> None:
        """A sender thread: make each queued call when it is due."""
        while True:
            call = None
            try:
                with self._cond:
                    call = self._next()
                if call is None:  # closed
                    return
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
            closing = self._closed and response is None  # it failed while the app closed
            again = response is None and call.attempts < MAX_ATTEMPTS and not closing
            if again:
                self._push(call.retry_at, call)  # still before its chat's later ones
                self._cond.notify_all()
        if again or closing:
            self._keep(call)  # its entry was taken before the try: written again
        if again:
            return
        with self._cond:
            call.left = True
        if closing:  # not tried again here: another process adopts it (with a journal)
            log.warning("%s not sent: the app is closing", call.method)
            call.given_up = True
            response = placeholder(call)
        else:
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

    watch = staticmethod(watch)  # (bot.outbox.calls): what a job sees through itself
    on_settled = staticmethod(on_settled)

    def drop(self, chat: int) -> int:
        """Forget the calls queued for a chat that can no longer be reached; how many."""
        with self._cond:
            mine = [e for e in self._heap if e[2].chat == chat]
            if not mine:
                return 0
            self._heap = [e for e in self._heap if e[2].chat != chat]
            heapq.heapify(self._heap)
            self._order.pop(chat, None)
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

    # for tests and a clean shutdown -----------------------------------------------------------

    def close(self) -> None:
        """Stop the sender threads (the app is closing). What is still queued is not sent from
        here: with a journal another process adopts it; without, it is lost (see bot.outbox)."""
        with self._cond:
            self._closed = True
            dropped = [entry[2] for entry in self._heap]
            for call in dropped:
                call.left = call.given_up = True  # not sent: whoever watches it must know
            self._heap.clear()
            self._order.clear()
            self._queued.clear()
            self._cond.notify_all()
        for call in dropped:
            call.future.set_result(placeholder(call))
        if dropped:
            kept = "kept in Redis for another process" if self.journal else "lost"
            log.warning("closing with %s messages still queued: %s", len(dropped), kept)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

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
