"""Background work as the services see it: the `Background` protocol, and `Jobs`, the
in-process thread pool. With REDIS_URL the factory hands the services `webapp.queue.QueuedJobs`
(RQ) instead; this module knows nothing of it.

Durable state lives in the store, so a job lost with its process is found again by the sweeper
(`Services.resume`) and carried on. A job that raises is logged (on RQ, also kept in RQ's failed
list); the work it claimed is put back for the sweep (`webapp.services.work.AstriaWork.claimed`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import ContextVar
from typing import Protocol

log = logging.getLogger("jobs")

# True while a background job or sweep runs: such code may wait (e.g. for Telegram's
# retry_after), where a request must answer at once.
in_background: ContextVar[bool] = ContextVar("in_background", default=False)


class Background(Protocol):
    """What the services need of background work: `Jobs` (a thread pool) or
    `webapp.queue.QueuedJobs` (RQ)."""

    @property
    def stopping(self) -> bool:
        """True once the process takes no new work."""

    def submit(self, name: str, fn: Callable, *args) -> object:
        """Run fn(*args) in the background (with RQ, fn must be a service method)."""

    def submit_optional(self, name: str, fn: Callable, *args) -> object | None:
        """Run work that may be dropped; None when it was."""

    def wait_idle(self, timeout: float = 30.0, here_only: bool = False) -> bool:
        """Wait until no job is running; True when idle. here_only: this process's own jobs
        only (what waits in Redis is kept there for the workers, whatever this process does)."""

    def shutdown(self) -> None:
        """Stop taking work."""


class ShuttingDown(RuntimeError):
    """The process is stopping and takes no new background work (answer 503: try later)."""


class Jobs:
    """Runs callables off the request thread and keeps track of what is still running.

    Work that matters (uploads, prompts, albums) has the main pool. Courtesies that may be
    dropped (the check of a chat photo) have a small pool of their own with a bounded queue, so
    a slow Astria or a crowd sending photos never delays the work users paid for."""

    def __init__(self, workers: int = 4, optional_workers: int = 2, optional_queue: int = 32):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._optional = ThreadPoolExecutor(optional_workers, thread_name_prefix="optional")
        self._optional_queue = optional_queue
        self._running: set[Future] = set()
        self._optional_running = 0
        self._lock = threading.Lock()
        self.stopping = False  # set by shutdown(): no new work is taken

    def submit(self, name: str, fn: Callable, *args) -> Future:
        """Run fn(*args) in the background; an exception is logged, never lost silently."""
        return self._submit(self._pool, name, fn, args)

    def submit_optional(self, name: str, fn: Callable, *args) -> Future | None:
        """Run fn(*args) on the pool of work that may be dropped; None (logged) when that
        pool already has its fill waiting."""
        with self._lock:
            if self._optional_running >= self._optional_queue:
                log.warning(
                    "job %s dropped: %s optional jobs waiting", name, self._optional_running
                )
                return None
            self._optional_running += 1
        try:
            future = self._submit(self._optional, name, fn, args)
        except ShuttingDown:
            with self._lock:
                self._optional_running -= 1
            raise
        future.add_done_callback(self._optional_done)
        return future

    def _submit(self, pool: ThreadPoolExecutor, name: str, fn: Callable, args: tuple) -> Future:
        try:
            future = pool.submit(self._run, name, fn, args)
        except RuntimeError:  # the pool is shut down: the process is stopping
            raise ShuttingDown(f"not starting {name}: the process is stopping") from None
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

    def _optional_done(self, _future: Future) -> None:
        with self._lock:
            self._optional_running -= 1

    @staticmethod
    def _run(name: str, fn: Callable, args: tuple) -> None:
        in_background.set(True)
        try:
            fn(*args)
        except Exception:
            log.exception("job %s failed", name)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._running.discard(future)

    def wait_idle(self, timeout: float = 30.0, here_only: bool = False) -> bool:
        """Wait until no job is running (jobs may start others; all of them run here); True
        when idle."""
        deadline = time.monotonic() + timeout  # (no timer thread per call: tests call it often)
        while True:
            with self._lock:
                running = list(self._running)
            if not running:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            wait(running, timeout=min(left, 0.5))

    def shutdown(self) -> None:
        """Stop taking work and let running jobs finish."""
        self.stopping = True
        self._optional.shutdown(wait=False, cancel_futures=True)  # may be dropped: not waited for
        self._pool.shutdown(wait=True, cancel_futures=False)
