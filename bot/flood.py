"""Flood control for the chat: a user writing faster than FLOOD_MESSAGES in 10 seconds is
ignored for a while, with one polite warning a minute. Counters live in memory, or in Redis
when REDIS_URL is set (shared by every worker)."""

from __future__ import annotations

import logging
import threading

from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from webapp.settings import Settings

log = logging.getLogger("limits")

CHAT_WARNING = "1/minute"  # one polite warning per minute at most
ALBUM = "10/minute"  # Telegram's albums hold at most 10 items


class SweepingMemoryStorage(MemoryStorage):
    """limits' memory storage, but sweeping expired counters every few seconds.

    The stock one starts a thread every 10 ms while counters change and scans every key each
    time: under a steady stream of webhook updates that alone cost more CPU than the rest of an
    update. Expired entries are ignored on reading either way; the sweep only frees memory."""

    SWEEP_SECONDS = 5.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # the stock (name-mangled) hook
        if not self.timer.is_alive():
            self.timer = threading.Timer(self.SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()


class FloodControl:
    """Per-user message counter for the chat: more than FLOOD_MESSAGES in 10 seconds (an album
    counting once) is ignored, with one warning a minute."""

    def __init__(self, settings: Settings) -> None:
        storage = (
            storage_from_string(settings.redis_url)
            if settings.redis_url
            else SweepingMemoryStorage()
        )
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.window = parse(f"{settings.flood_messages}/10 seconds")
        self.warning = parse(CHAT_WARNING)
        self.album = parse(ALBUM)
        self.album_start = parse("1/minute")

    def allow(self, user_id: int, album: str | None = None) -> tuple[bool, bool]:
        """(allowed, warn): count a message; when not allowed, `warn` says to tell them once.

        The pictures of one incoming album (`media_group_id`) arrive as separate messages in a
        burst: the album counts as one message, and its (at most 10) pictures pass when its
        first one did."""
        user = str(user_id)
        if album is not None:
            if not self.limiter.hit(self.album, "album", user, album):
                return self._refuse(user)  # more than 10 pictures: not an album
            if not self.limiter.hit(self.album_start, "album-start", user, album):
                # a later picture: it passes if the album's first one was let through
                if self.storage.get(f"album-allowed/{user}/{album}"):
                    return True, False
                return self._refuse(user)
            if not self.limiter.hit(self.window, "chat", user):
                return self._refuse(user)
            self.storage.incr(f"album-allowed/{user}/{album}", 60)
            return True, False
        if self.limiter.hit(self.window, "chat", user):
            return True, False
        return self._refuse(user)

    def _refuse(self, user: str) -> tuple[bool, bool]:
        """Not allowed; warn the user at most once a minute."""
        warn = self.limiter.hit(self.warning, "chat-warning", user)
        if warn:
            log.info("user=%s is flooding; ignoring for a while", user)
        return False, warn
