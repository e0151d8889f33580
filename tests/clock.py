"""A clock a test moves on instead of sleeping: the app's outbox and the Telegram stand-in both
read it, so a retry_after of minutes is waited out at once, and both still agree on how long
passed (the stand-in's `Call.at` and its flood limit are on it too)."""

from __future__ import annotations

import threading
import time

from webapp.clock import Clock


class SkippingClock(Clock):
    """Real time plus the seconds skipped so far. Waits on it are registered, so a test can wait
    for the app to be waiting (`next_wait`) and end that wait at once (`skip`)."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Condition()
        self._waits: dict[int, tuple[threading.Condition, float]] = {}  # by thread: until when

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        if timeout is None:  # nothing to end early: woken by the queue itself
            condition.wait()
            return
        with self._lock:  # the caller holds `condition`; skip() never takes it under this lock
            self._waits[threading.get_ident()] = (condition, self.monotonic() + timeout)
            self._lock.notify_all()
        try:
            condition.wait(timeout)
        finally:
            with self._lock:
                self._waits.pop(threading.get_ident(), None)

    def next_wait(self, longer_than: float, timeout: float = 10.0) -> float:
        """Wait until something waits on this clock for more than `longer_than` seconds from
        now (the outbox waiting out a 429, say): how many seconds it has left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                now = self.monotonic()
                left = [until - now for _, until in self._waits.values()]
                long = [s for s in left if s > longer_than]
                if long:
                    return min(long)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"nothing waited over {longer_than}s: {left}")
                self._lock.wait(remaining)

    def skip(self, seconds: float) -> None:
        """Move the clock on by `seconds`, and wake every wait on it to look again."""
        with self._lock:
            self._offset += seconds
            waiting = [condition for condition, _ in self._waits.values()]
        for condition in waiting:
            with condition:
                condition.notify_all()

    def skip_next(self, longer_than: float = 0.5) -> float:
        """End the next wait longer than `longer_than` seconds at once; how long it had left."""
        left = self.next_wait(longer_than)
        self.skip(left)
        return left

    def skip_until(self, check, longer_than: float = 0.5, timeout: float = 10.0):
        """End every wait longer than `longer_than` seconds as it comes, until `check()` is
        true (what it returned): a queue's paced messages, each at once."""
        deadline = time.monotonic() + timeout
        while not (found := check()):
            assert time.monotonic() < deadline, f"{check} did not come true in {timeout}s"
            with self._lock:
                now = self.monotonic()
                long = [
                    until - now for _, until in self._waits.values() if until - now > longer_than
                ]
                if not long:
                    self._lock.wait(0.02)  # for the next wait, or for `check` to come true
                    continue
            self.skip(min(long))
        return found
