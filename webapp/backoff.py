"""Redis (REDIS_URL): the app's one client, and skipping it while it does not answer instead of
waiting out its timeout on every request (after a failure it is left alone for a while, then
tried again)."""

from __future__ import annotations

import time

from redis import Redis

# A Redis that does not answer costs a request at most this long before the app counts in its
# own memory instead.
REDIS_TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 2}


def redis_client(url: str) -> Redis:
    """The app's one Redis client, made by the factory and handed to each user of Redis (the
    job queue, the photo stash, the outbox journal, the flood, alert and rate-limit counters):
    one connection pool per process. (The RQ worker's own blocking wait for jobs has a longer
    timeout, and so a connection of its own: webapp.queue.run_worker.)"""
    return Redis.from_url(url, **REDIS_TIMEOUTS)


class Backoff:
    """`up()` says whether to try the service now; `failed()` says it just did not answer
    (True the first time, to log it once). Each user of the shared client keeps its own, so
    each says once in the log what it does instead (counts here, runs the job here, …)."""

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
