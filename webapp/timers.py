"""Threads that call something every few seconds: a claim's heartbeat while its job runs, and the
sweeps that pick up work a crash or an outage left waiting."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from webapp.jobs import in_background

log = logging.getLogger("jobs")


class Heartbeat:
    """Keeps a claim in the store alive while its job runs: `renew()` every `every` seconds on
    a thread of its own, from the `with` block's start until its end or `stop()`. A process that
    dies stops renewing, so its claim runs out within one lease and the sweep takes the work
    over, however long the job itself may take."""

    def __init__(self, renew: Callable[[], None], every: float, name: str) -> None:
        self._renew = renew
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lease {name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        return self.start()

    def start(self) -> Heartbeat:
        """Begin renewing (without `with`: until `stop()`)."""
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self._renew()
            except Exception as exc:  # the store is down now: the next beat tries again
                log.warning("%s: claim not renewed (%s)", self._thread.name, type(exc).__name__)

    def stop(self) -> None:
        """Renew no more; returns once no renewal is under way (the claim may be rewritten)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


class Sweeper:
    """Calls `fn` every `interval` seconds on a daemon thread, so stuck work gets picked up."""

    def __init__(self, interval: float, fn: Callable[[], None]) -> None:
        self.interval = interval
        self._fn = fn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)
        # when its last few sweeps began and ended (time.monotonic): what a test waits for
        # when it looks for a second copy of something a sweep would make
        self.swept: deque[tuple[float, float]] = deque(maxlen=16)

    def start(self) -> None:
        """Begin sweeping."""
        self._thread.start()

    def _loop(self) -> None:
        in_background.set(True)
        while not self._stop.wait(self.interval):
            began = time.monotonic()
            try:
                self._fn()
            except Exception:
                log.exception("sweep failed")
            self.swept.append((began, time.monotonic()))

    def stop(self, wait: float = 10.0) -> None:
        """Stop sweeping; waits up to `wait` seconds for a sweep under way to end (it must not
        meet a store being closed: that would be a failed sweep, logged as an error)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(wait)
