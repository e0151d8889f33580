"""Flood control for the chat: a user writing faster than FLOOD_MESSAGES in 10 seconds is
ignored for a while, with one polite warning a minute. Counters live in memory, or in Redis
when REDIS_URL is set (shared by every worker; in memory again while Redis does not answer)."""

from __future__ import annotations

import logging

from limits import parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from webapp.backoff import Backoff
from webapp.counters import SweepingMemoryStorage
from webapp.settings import Settings

log = logging.getLogger("limits")

CHAT_WARNING = "1/minute"  # one polite warning per minute at most
ALBUM = "10/minute"  # Telegram's albums hold at most 10 items


class _Counters:
    """A storage of counters and the moving-window limiter over it."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)


class FloodControl:
    """Per-user message counter for the chat: more than FLOOD_MESSAGES in 10 seconds (an album
    counting once) is ignored, with one warning a minute.

    With REDIS_URL the counters are shared; while Redis does not answer, this process counts
    on its own (a warning in the log, then Redis is tried again every RETRY_SECONDS): a flood
    limit per process rather than every update failing."""

    RETRY_SECONDS = 30.0

    def __init__(self, settings: Settings, redis: Redis | None = None) -> None:
        self.memory = _Counters(SweepingMemoryStorage())
        self.shared = None
        if redis is not None:  # the app's one client's connections
            self.shared = _Counters(
                storage_from_string(
                    settings.redis_url,
                    wrap_exceptions=True,  # any Redis failure is a StorageError
                    connection_pool=redis.connection_pool,
                )
            )
        self.shared_backoff = Backoff(self.RETRY_SECONDS)
        self.window = parse(f"{settings.flood_messages}/10 seconds")
        self.warning = parse(CHAT_WARNING)
        self.album = parse(ALBUM)
        self.album_start = parse("1/minute")

    def allow(self, user_id: int, album: str | None = None) -> tuple[bool, bool]:
        """(allowed, warn): count a message; when not allowed, `warn` says to tell them once."""
        if self.shared is not None and self.shared_backoff.up():
            try:
                return self._count(self.shared, str(user_id), album)
            except StorageError as exc:
                self.shared_backoff.failed()
                log.warning(
                    "flood counters in Redis unavailable (%s): counting in this process",
                    type(exc.storage_error).__name__,
                )
        return self._count(self.memory, str(user_id), album)

    def _count(self, counters: _Counters, user: str, album: str | None) -> tuple[bool, bool]:
        """The pictures of one incoming album (`media_group_id`) arrive as separate messages in
        a burst: the album counts as one message, and its (at most 10) pictures pass when its
        first one did."""
        hit = counters.limiter.hit
        if album is not None:
            if not hit(self.album, "album", user, album):
                return self._refuse(counters, user)  # more than 10 pictures: not an album
            if not hit(self.album_start, "album-start", user, album):
                # a later picture: it passes if the album's first one was let through
                if counters.storage.get(f"album-allowed/{user}/{album}"):
                    return True, False
                return self._refuse(counters, user)
            if not hit(self.window, "chat", user):
                return self._refuse(counters, user)
            counters.storage.incr(f"album-allowed/{user}/{album}", 60)
            return True, False
        if hit(self.window, "chat", user):
            return True, False
        return self._refuse(counters, user)

    def _refuse(self, counters: _Counters, user: str) -> tuple[bool, bool]:
        """Not allowed; warn the user at most once a minute."""
        warn = counters.limiter.hit(self.warning, "chat-warning", user)
        if warn:
            log.info("user=%s is flooding; ignoring for a while", user)
        return False, warn
