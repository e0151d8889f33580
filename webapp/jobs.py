"""Background work: an in-process thread pool (RQ on Redis is not built yet).

Durable state lives in the store, so a job lost with its process is found again by the sweeper
(`Services.resume`) and carried on; jobs themselves only log their failures.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import ContextVar

log = logging.getLogger("jobs")

# True while a background job or sweep runs: such code may wait (e.g. for Telegram's
# retry_after), where a request must answer at once.
in_background: ContextVar[bool] = ContextVar("in_background", default=False)


class ShuttingDown(RuntimeError):
    """The process is stopping and takes no new background work (answer 503: try later)."""


class Jobs:
    """Runs callables off the request thread and keeps track of what is still running."""

    def __init__(self, workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._running: set[Future] = set()
        self._lock = threading.Lock()
        self.stopping = False  # set by shutdown(): no new work is taken

    def submit(self, name: str, fn: Callable, *args) -> Future:
        """Run fn(*args) in the background; an exception is logged, never lost silently."""
        try:
            future = self._pool.submit(self._run, name, fn, args)
        except RuntimeError:  # the pool is shut down: the process is stopping
            raise ShuttingDown(f"not starting {name}: the process is stopping") from None
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._forget)
        return future

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

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no job is running (jobs may start others); True when idle."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                with self._lock:
                    running = list(self._running)
                if not running:
                    return True
                wait(running, timeout=0.5)
            return False
        finally:
            timer.cancel()

    def shutdown(self) -> None:
        """Stop taking work and let running jobs finish."""
        self.stopping = True
        self._pool.shutdown(wait=True, cancel_futures=False)


class Sweeper:
    """Calls `fn` every `interval` seconds on a daemon thread, so stuck work gets picked up."""

    def __init__(self, interval: float, fn: Callable[[], None]) -> None:
        self._interval = interval
        self._fn = fn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sweeper", daemon=True)

    def start(self) -> None:
        """Begin sweeping."""
        self._thread.start()

    def _loop(self) -> None:
        in_background.set(True)
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception:
                log.exception("sweep failed")

    def stop(self) -> None:
        """Stop sweeping."""
        self._stop.set()
