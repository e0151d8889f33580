"""With REDIS_URL, the messages the outbox holds back (paced, or waiting out a 429) are written
to Redis too, so that a process that dies with some queued does not lose them: another process
of the app adopts them and sends them.

Each process has an owner id and keeps a key alive in Redis while it runs (renewed every
`refresh` seconds, expiring after four). A queued message is a field of one hash, named by its
owner. Whoever sends it deletes its field first and sends only if that delete found it (or
Redis could not say): so a message adopted by another process (its owner looked dead, say
through a Redis stall) is sent by one of them, not both. A process's sweep adopts the
messages of owners whose key has expired: it writes each under its own name and deletes the
old field (only one process can) before queueing it. Deletes that Redis did not take are
tried again once it answers. What is written is the Bot API method and its parameters, never
the bot's token; messages older than an hour are deleted unsent (their moment has passed), and
only a process talking to the same Bot API adopts a message.

Not journaled: calls with files (only albums send files, and albums have their own delivery
guarantee), calls made inside `Outbox.watch()` (the album job re-sends those itself), and
calls without a chat (button answers, which Telegram forgets within seconds)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid

from redis import Redis
from redis.exceptions import RedisError

from webapp.backoff import Backoff

log = logging.getLogger("telegram")

MAX_AGE = 3600  # seconds: a message queued longer ago than this is not sent any more


class RedisJournal:
    """The outbox's queued messages, kept in Redis for adoption if this process dies."""

    def __init__(self, redis: Redis, token: str, api_url: str, refresh: float = 10.0) -> None:
        self.redis = redis
        self.token = token
        self.api_url = api_url  # "{base}/bot{0}/{1}": the token is filled in when sending
        bot = hashlib.sha256(token.encode()).hexdigest()[:12]  # one bot's messages, not another's
        self.calls_key = f"astria-bot:outbox:{bot}:calls"
        self.alive_prefix = f"astria-bot:outbox:{bot}:alive:"
        self.owner = uuid.uuid4().hex
        self.refresh = refresh
        self.backoff = Backoff()
        self._missed: set[str] = set()  # entries to delete once Redis answers again
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_alive, name="outbox-alive", daemon=True)
        self._beat()  # alive before it writes or adopts anything
        self._thread.start()

    def url(self, method: str) -> str:
        """The Bot API URL of `method`, with this bot's token."""
        return self.api_url.format(self.token, method)

    def _keep_alive(self) -> None:
        """Renew this process's key every `refresh` seconds, whether or not Redis failed a
        moment ago (else a short stall would make it look dead), and retry the deletes it
        missed."""
        while not self._stop.wait(self.refresh):
            self._beat()

    def _beat(self) -> bool:
        """Say this process is alive (and delete what Redis missed); False if Redis failed."""
        with self._lock:
            missed, self._missed = self._missed, set()
        try:
            self.redis.set(self._alive(self.owner), 1, ex=max(1, round(4 * self.refresh)))
            if missed:
                self.redis.hdel(self.calls_key, *missed)
            return True
        except RedisError as exc:
            self._miss(*missed)
            if self.backoff.failed():
                log.warning("outbox journal: Redis did not answer (%s)", type(exc).__name__)
            return False

    def _miss(self, *entry_ids: str) -> None:
        """Entries to delete once Redis answers again."""
        with self._lock:
            self._missed.update(entry_ids)

    def _alive(self, owner: str) -> str:
        return self.alive_prefix + owner

    def _redis(self, what: str, fn, *args, **kwargs):
        """fn(*args) on Redis, or None (logged once) while Redis does not answer."""
        if not self.backoff.up():
            return None
        try:
            return fn(*args, **kwargs)
        except RedisError as exc:
            if self.backoff.failed():
                log.warning("outbox journal: Redis did not answer %s (%s): queued messages "
                            "live in memory only for now", what, type(exc).__name__)  # fmt: skip
            return None

    def keep(self, method: str, http_method: str, params: dict) -> tuple[str, bool] | None:
        """Write a queued message: (its id, True) once written; (its id, False) when Redis
        failed to say (it may be there); None when not tried (Redis is down, or the message
        is not plain data)."""
        entry = {
            "api": self.api_url,
            "method": method,
            "http": http_method,
            "params": params,
            "at": time.time(),
        }
        try:
            data = json.dumps(entry)
        except (TypeError, ValueError):  # a parameter that is not plain data: memory only
            return None
        if not self.backoff.up():
            return None
        entry_id = f"{self.owner}:{uuid.uuid4().hex}"
        done = self._redis("keep", self.redis.hset, self.calls_key, entry_id, data)
        return entry_id, done is not None

    def take(self, entry_id: str) -> bool | None:
        """Delete a message's entry before sending it: True if it was there (ours to send),
        False if not (another process adopted it), None if Redis could not say."""
        found = self._redis("take", self.redis.hdel, self.calls_key, entry_id)
        if found is None:
            self._miss(entry_id)
            return None
        return bool(found)

    def forget(self, entry_id: str) -> None:
        """The message left the queue: not to be sent by anyone again."""
        if self._redis("forget", self.redis.hdel, self.calls_key, entry_id) is None:
            self._miss(entry_id)

    def orphans(self) -> list[tuple[str, dict]]:
        """Take over the messages of processes that stopped: (new id, entry) for each, now
        this process's to send."""
        if not self._beat():  # what it adopts must not look orphaned in turn
            return []
        entries = self._redis("orphans", self.redis.hgetall, self.calls_key) or {}
        owners = sorted({field.decode().partition(":")[0] for field in entries})
        if not owners:
            return []
        alive = self._redis("orphans", self.redis.mget, [self._alive(o) for o in owners])
        if alive is None:
            return []
        gone = {owner for owner, key in zip(owners, alive, strict=True) if key is None}
        adopted = []
        for field, data in entries.items():
            field = field.decode()
            if field.partition(":")[0] not in gone:
                continue
            entry = json.loads(data)
            if entry.get("at", 0) < time.time() - MAX_AGE:
                self.forget(field)  # too old to be worth sending
                continue
            if entry.get("api") != self.api_url:
                continue  # another Bot API's message (a test environment): not ours to send
            new_id = f"{self.owner}:{uuid.uuid4().hex}"
            if self._redis("adopt", self.redis.hset, self.calls_key, new_id, data) is None:
                break
            if self._redis("adopt", self.redis.hdel, self.calls_key, field):
                adopted.append((new_id, entry))
            else:  # another process adopted it first
                self.forget(new_id)
        return adopted

    def close(self) -> None:
        """Stop keeping this process alive: its remaining messages go to another process."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._redis("close", self.redis.delete, self._alive(self.owner))
