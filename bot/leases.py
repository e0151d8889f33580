"""An update's claim is a lease: taken when the webhook receives it, renewed while it runs,
marked done when it ends. A process that dies mid-update stops renewing, so its claim runs out
and Telegram's redelivery of that update is handled again by whichever process gets it (every
effect of a handler is made once per update id, so handling it twice has the effect of once).

- An update that wrote chat state, created something (`request_key`) or sends messages of its
  own is marked done in the same transaction as that state (`Store.finish_update`), before its
  messages leave (bot.outbox holds them until then).
- An update that did none of that (most: /help, "hello"; at most one message, which rides in
  the webhook's answer, so it leaves only once Telegram has the answer) is marked done with
  others a moment later, off the request path: a plain command still costs one store round
  trip (`begin_update`). Until then its claim is renewed like any running update's.
- A redelivery finds the update done (skipped), or claimed by a process that is still renewing
  it (a quick 200: that process answers), or claimed by one that stopped (handled again, once
  the lease has run out).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import OrderedDict
from contextvars import ContextVar

from bot.failures import current_update
from webapp.store import Store

log = logging.getLogger("webhook")

GATHER = 0.2  # seconds the done marks of updates that wrote nothing wait for company
REMEMBERED = 4096  # updates finished here that a redelivery to this process is told of at once
MAX_PENDING = 10_000  # done marks kept while the store is down (past it: their leases run out)


class Leases:
    """This process's claims on the updates it handles: `holder` names it in the store."""

    def __init__(self, store: Store, lease: float, holder: str | None = None) -> None:
        self.store = store
        self.lease = lease
        # renewal period: a live claim is never older (so a redelivery sees a live process
        # within it), and a dead one's runs out after three
        self.every = max(min(lease / 3, 2.0), 0.05)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._done: list[int] = []
        self._finished: OrderedDict[int, None] = OrderedDict()
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

    def end(self, update_id: int, done: bool = False, done_later: bool = False) -> None:
        """The update's handling returned: `done` (marked so with its writes), or
        `done_later` (it wrote nothing: marked done with others shortly), or neither (it died,
        or the store refused its done mark: its claim is left to run out)."""
        with self._lock:
            self._running.discard(update_id)
            if done_later and len(self._done) < MAX_PENDING:
                self._done.append(update_id)
            if done or done_later:
                self._finished[update_id] = None
                if len(self._finished) > REMEMBERED:
                    self._finished.popitem(last=False)
        if done_later:
            self._wake.set()

    def here(self, update_id: int) -> bool:
        """The update runs in this process now, or was finished here (a redelivery of it to
        this process needs no waiting: it is handled, or being handled)."""
        with self._lock:
            return update_id in self._running or update_id in self._finished

    def wait_busy(self, claim, held_at: str | None):
        """A redelivery of an update another process holds: `claim()` (the webhook's claim,
        tried again) until it is claimed here (that process stopped renewing: its lease ran
        out), found done, or renewed (that process is alive and answers it). What `claim`
        last gave."""
        deadline = time.monotonic() + self.lease + self.every + 1.0
        while True:
            time.sleep(min(self.every / 2, 0.5))
            begun = claim()
            if begun.claimed or not begun.busy:
                return begun
            if begun.held_at != held_at or time.monotonic() > deadline:
                return begun  # busy: a live process handles it

    def _loop(self) -> None:
        renewed = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(self.every)
            if self._wake.is_set():
                self._wake.clear()
                self._stop.wait(GATHER)
            self._mark_done()
            if time.monotonic() - renewed >= self.every:
                renewed = time.monotonic()
                self._renew()

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


# Set by request_key(): the update being handled created something keyed by it (so it is marked
# done before its messages leave; see bot.update_handler).
keyed: ContextVar[bool] = ContextVar("keyed", default=False)


def request_key() -> str | None:
    """What makes an effect of the update being handled happen once, however often it is
    handled (a model's title, a generation's or an order's request key): its update id."""
    update = current_update.get()
    if update is None:
        return None
    keyed.set(True)
    return f"u{update.update_id}"
