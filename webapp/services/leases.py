"""Webhook updates' claims, as leases (bot.updates.Updates claims and handles each update with
them; bot.leases.request_key keys what an update creates).

An update's claim is a lease: taken when the webhook receives it, renewed while it runs,
marked done when it ends. A process that dies mid-update stops renewing, so its claim runs out
and Telegram's redelivery of that update is handled again by whichever process gets it. What a
handler creates is keyed by the update (`request_key`), its chat state is written with the done
mark and its messages leave after it, so handling an update twice has the effect of once.

- An update that wrote chat state, created something (`request_key`) or sends messages itself
  is marked done in one transaction with that state (`Store.finish_update`), before its
  messages leave (bot.outbox holds them until then).
- An update that did none of that (most: /help, "hello"; at most one message, which rides in
  the webhook's answer) is marked done with others a moment later, off the request path: a
  plain command still costs one store round trip (`begin_update`).
- Either way the done mark keeps the webhook answer the update carried. Telegram delivers an
  update again only when it never got the first answer, so a redelivery of an update that is
  done gets that answer (its reply is not lost, nor sent twice).
- A redelivery of an update another process holds waits (in its request) until that one is
  done (then its answer), or its claim runs out (the process died: handled here), for at most
  about a lease; a process still at it after ALIVE_WAIT is told to Telegram as 503, to be
  delivered again later.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from webapp.records import Begun, StateWrite
from webapp.store import Store

log = logging.getLogger("webhook")

GATHER = 0.2  # seconds the done marks of updates that wrote nothing wait for company
REMEMBERED = 4096  # updates finished here that a redelivery to this process is told of at once
MAX_PENDING = 10_000  # done marks kept while the store is down (past it: their leases run out)
ALIVE_WAIT = 5.0  # seconds a redelivery waits for a live process to finish the update
RUNNING = object()  # Leases.local: the update runs in this process now
GAVE_UP = object()  # Leases.local: it ran here and was not finished (the store refused)
FINISH_PAUSES = (0.2, 1.0)  # seconds between the tries of a done mark the store failed


class Leases:
    """This process's claims on the updates it handles: `holder` names it in the store."""

    def __init__(self, store: Store, lease: float, holder: str | None = None) -> None:
        self.store = store
        self.lease = lease
        # renewal period: a live claim is never older (so a redelivery sees a live process
        # within it), and a dead one's runs out after three at least
        self.every = max(min(lease / 3, 2.0), 0.01)
        # made once per process: the app is built in each gunicorn worker (never --preload)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._done: list[tuple[int, dict | None]] = []
        # updates that ran here lately: their answer when finished, else GAVE_UP
        self._ended: OrderedDict[int, object] = OrderedDict()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, update_id: int) -> None:
        """This process handles the update now: its claim is renewed until `end`."""
        with self._lock:
            self._running.add(update_id)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name="leases", daemon=True)
                self._thread.start()

    def end(
        self,
        update_id: int,
        answer: dict | None = None,
        done: bool = False,
        done_later: bool = False,
        gave_up: bool = False,
    ) -> None:
        """The update's handling returned: `done` (marked so, with its writes and `answer`),
        or `done_later` (it wrote nothing: marked done with `answer` and others shortly), or
        `gave_up` (cut short, or the store refused its done mark: its claim is left to run
        out, or taken back at once by this process), or none (another process took it)."""
        with self._lock:
            self._running.discard(update_id)
            if done_later and len(self._done) < MAX_PENDING:
                self._done.append((update_id, answer))
            if done or done_later or gave_up:
                self._ended[update_id] = GAVE_UP if gave_up else answer
                if len(self._ended) > REMEMBERED:
                    self._ended.popitem(last=False)
        if done_later:
            self._wake.set()

    def finish(
        self, update_id: int, writes: Sequence[StateWrite], answer: dict | None
    ) -> bool | None:
        """Mark an update done now, with its state `writes` and its `answer`: True; False when
        its claim was taken over meanwhile; None when the store failed three times (tried
        again: a try may have committed and only its answer been lost, and the next then
        finds it done by this process). Ends the update here either way."""
        ours = None
        for pause in (*FINISH_PAUSES, None):
            try:
                ours = self.store.finish_update(update_id, self.holder, writes, answer)
                break
            except Exception as exc:
                if pause is None:
                    log.warning("update=%s not finished (%s): it will be handled again",
                                update_id, type(exc).__name__)  # fmt: skip
                else:
                    time.sleep(pause)
        self.end(update_id, answer, done=ours is True, gave_up=ours is None)
        return ours

    def local(self, update_id: int):
        """RUNNING when the update runs in this process now; its answer (a dict, or None)
        when it was finished here; GAVE_UP when it ran here unfinished; False when this
        process knows nothing of it (yet)."""
        with self._lock:
            if update_id in self._running:
                return RUNNING
            return self._ended.get(update_id, False)

    def wait_busy(self, update_id: int, claim, busy: Begun) -> Begun:
        """A redelivery of an update a process holds (`busy`, from `claim()`): wait until it
        is claimed here (its holder stopped renewing: the lease ran out), found done (what it
        answered), or its live holder has been at it for ALIVE_WAIT more (still busy)."""
        started = time.monotonic()
        give_up = started + self.lease + 2 * self.every + 1.0
        alive_until = None
        held_at = busy.held_at
        while True:
            here = self.local(update_id) if busy.held_by == self.holder else False
            if here is RUNNING:  # another thread of this process: no store to ask
                alive_until = alive_until or time.monotonic() + ALIVE_WAIT
            elif here is not False and here is not GAVE_UP:
                return Begun(False, answer=here)
            else:
                begun = claim()
                if begun.claimed or not begun.busy:
                    return begun
                if begun.held_at != held_at:  # renewed: its process is alive
                    alive_until = alive_until or time.monotonic() + ALIVE_WAIT
                    held_at = begun.held_at
                busy = begun
            now = time.monotonic()
            if (alive_until is not None and now > alive_until) or now > give_up:
                return busy
            time.sleep(min(self.every / 2, 0.1))

    def _loop(self) -> None:
        renewed = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(self.every)
            if time.monotonic() - renewed >= self.every:  # first: live claims must not run out
                renewed = time.monotonic()
                self._renew()
            if self._wake.is_set():
                self._wake.clear()
                self._stop.wait(GATHER)
            self._mark_done()

    def _mark_done(self) -> None:
        with self._lock:
            done, self._done = self._done, []
        if not done:
            return
        try:
            self.store.updates_done(done, self.holder)
        except Exception as exc:  # the store is down: tried again with the next ones
            log.warning("%s updates not marked done yet (%s)", len(done), type(exc).__name__)
            with self._lock:
                self._done = (done + self._done)[:MAX_PENDING]

    def _renew(self) -> None:
        with self._lock:
            running = sorted(self._running)
        if not running:
            return
        try:
            self.store.renew_updates(running, self.holder)
        except Exception as exc:  # the store is down: the next beat tries again
            log.warning("claims on %s updates not renewed (%s)", len(running),
                        type(exc).__name__)  # fmt: skip

    def close(self) -> None:
        """Stop renewing; mark done what is waiting for it (a clean shutdown)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._mark_done()
