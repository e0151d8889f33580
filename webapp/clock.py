"""The time the app's own waits read (the outbox's pace, retry_after and retries): the real
clock when deployed; tests hand `create_app` one they can move on instead of sleeping
(tests/clock.py, SkippingClock)."""

from __future__ import annotations

import threading
import time


class Clock:
    """Monotonic seconds, and a condition's wait that lasts as long as asked."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, condition: threading.Condition, timeout: float | None) -> None:
        """Wait on `condition` (held by the caller) for at most `timeout` seconds of this clock,
        or until notified."""
        condition.wait(timeout)
