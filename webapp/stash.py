"""Where a Mini App's training photos wait for their upload to Astria: bytes, for at most an
hour, deleted as soon as Astria has them. Never in the durable store, never in logs.

In memory without Redis (the upload runs in the same process; a restart loses them and the
training is refunded), in Redis with REDIS_URL (any process's worker uploads them, and a restart
loses nothing)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from redis import Redis
from redis.exceptions import RedisError

from webapp.astria import Photo
from webapp.backoff import Backoff

log = logging.getLogger("stash")

TTL_SECONDS = 3600  # photos Astria never got are gone after an hour (the training is refunded)


class StashUnavailable(Exception):
    """The stash cannot be read right now (Redis is down)."""


class PhotoStash(Protocol):
    """Photos by key (a model's title) until Astria has them."""

    def put(self, key: str, photos: Sequence[Photo]) -> None: ...
    def get(self, key: str) -> list[Photo]: ...
    def drop(self, key: str) -> None: ...


def open_stash(redis: Redis | None) -> PhotoStash:
    """Redis with REDIS_URL (any process can upload them), else this process's memory."""
    return RedisStash(redis) if redis is not None else MemoryStash()


class MemoryStash:
    """Photos in this process's memory, by model title."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._photos: dict[str, tuple[float, tuple[Photo, ...]]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, photos: Sequence[Photo]) -> None:
        """Keep the photos under `key` (a model's title) for at most the TTL."""
        with self._lock:
            now = time.monotonic()
            self._photos = {k: v for k, v in self._photos.items() if v[0] > now}
            self._photos[key] = (now + self.ttl, tuple(photos))

    def get(self, key: str) -> list[Photo]:
        """The photos kept under `key`; empty when there are none (expired, or never here)."""
        with self._lock:
            found = self._photos.get(key)
        return list(found[1]) if found and found[0] > time.monotonic() else []

    def drop(self, key: str) -> None:
        """Forget the photos (Astria has them, or the training ended)."""
        with self._lock:
            self._photos.pop(key, None)


class RedisStash:
    """Photos in Redis, by model title, expiring after the TTL: a hash of name, type and bytes
    per photo, written at once. While Redis is down, they wait in this process's memory (the
    job that uploads them then runs here too: Redis did not take it either)."""

    PREFIX = "astria-bot:photos:"

    def __init__(self, redis: Redis, ttl: int = TTL_SECONDS) -> None:
        self.redis = redis
        self.ttl = ttl
        self.fallback = MemoryStash(ttl)
        self.backoff = Backoff()  # Redis did not answer: not asked again for a while

    def put(self, key: str, photos: Sequence[Photo]) -> None:
        """Keep the photos for at most the TTL."""
        if self.backoff.up():
            try:
                self._put(key, photos)
                return
            except RedisError as exc:
                self.backoff.failed()
                log.warning("photos %s wait in memory: Redis is down (%s)", key[:8],
                            type(exc).__name__)  # fmt: skip
        self.fallback.put(key, photos)

    def _put(self, key: str, photos: Sequence[Photo]) -> None:
        fields = {}
        for n, photo in enumerate(photos):
            fields[f"{n}:name"] = photo.filename
            fields[f"{n}:type"] = photo.mime_type
            fields[f"{n}:data"] = photo.content
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.PREFIX + key)
            pipe.hset(self.PREFIX + key, mapping=fields)
            pipe.expire(self.PREFIX + key, self.ttl)
            pipe.execute()

    def get(self, key: str) -> list[Photo]:
        """The photos kept under `key`; empty when there are none. StashUnavailable while
        Redis does not answer (the photos may well be there: try again later)."""
        found = self.fallback.get(key)
        if found:
            return found
        if not self.backoff.up():
            raise StashUnavailable("Redis did not answer a moment ago")
        try:
            return self._get(key)
        except RedisError as exc:
            self.backoff.failed()
            raise StashUnavailable(type(exc).__name__) from None

    def _get(self, key: str) -> list[Photo]:
        fields = self.redis.hgetall(self.PREFIX + key)
        count = len(fields) // 3
        try:
            return [
                Photo(
                    fields[f"{n}:name".encode()].decode(),
                    fields[f"{n}:data".encode()],
                    fields[f"{n}:type".encode()].decode(),
                )
                for n in range(count)
            ]
        except KeyError:  # not as put: treat as gone
            log.warning("staged photos %s are incomplete", key[:8])
            return []

    def drop(self, key: str) -> None:
        """Forget the photos (Astria has them, or the training ended)."""
        self.fallback.drop(key)
        if not self.backoff.up():
            return  # they expire within the hour anyway
        try:
            self.redis.delete(self.PREFIX + key)
        except RedisError:
            self.backoff.failed()
            log.warning("photos %s are left to expire: Redis is down", key[:8])
