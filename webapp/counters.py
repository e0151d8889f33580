"""In-memory counters for rate and flood limits: limits' memory storage, made safe to share
between threads and cheap to keep (the chat's flood control and the API's rate limits use it
without REDIS_URL; flask-limiter finds it by its scheme, sweeping-memory://)."""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage


class SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage, sweeping expired counters every few seconds, one sweep at a time.

    The stock one starts a timer every 10 ms while counters change and scans every key each
    time: under a steady stream of webhook updates that alone cost more CPU than the rest of an
    update. And two threads counting at once could start the same timer twice (a CPython
    thread-start error, seen in CI). Expired entries are ignored on reading either way; the
    sweep only frees memory."""

    STORAGE_SCHEME = ["sweeping-memory"]
    SWEEP_SECONDS = 5.0
    # limits has no public setting for this: the hook below replaces a private method of
    # limits 5.8 (pinned in pyproject.toml); an upgrade that renames it fails here, at import,
    # not silently back to a thread every 10 ms.
    if not hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry"):
        raise ImportError("limits changed its MemoryStorage: see webapp/counters.py")
    _scheduling = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the stock (name-mangled) hook
        with self._scheduling:
            if not self.timer.is_alive():
                timer = threading.Timer(self.SWEEP_SECONDS, self._MemoryStorage__expire_events)
                timer.daemon = True
                self.timer = timer
                timer.start()
