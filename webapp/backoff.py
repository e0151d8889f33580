"""Skipping a shared service that stopped answering (Redis), instead of waiting out its timeout
on every request: after a failure it is left alone for a while, then tried again."""

from __future__ import annotations

import time


class Backoff:
    """`up()` says whether to try the service now; `failed()` says it just did not answer
    (True the first time, to log it once). Each user of Redis keeps its own."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self._until = 0.0

    def up(self) -> bool:
        """Try the service now (it has not failed in the last `seconds`)."""
        return time.monotonic() >= self._until

    def failed(self) -> bool:
        """Leave the service alone for `seconds`; True when it was thought up until now."""
        was_up = self.up()
        self._until = time.monotonic() + self.seconds
        return was_up
