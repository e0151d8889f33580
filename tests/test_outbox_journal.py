"""With REDIS_URL, the messages the outbox holds back are also in Redis until they go out, and
those of a process that stopped are sent by another, once. (tests/test_jobs_rq.py kills a real
worker with a message waiting; these check the journal's own rules on the machine's Redis.)"""

from __future__ import annotations

import json
import time

import pytest
import redis

from bot.outbox import Outbox
from bot.outbox.journal import MAX_AGE, RedisJournal
from bot.telegram import BotApi
from tests import factories as f
from tests.support import eventually, redis_url

TOKEN = "123:SECRET-token"
API = "http://127.0.0.1:9/bot{0}/{1}"


@pytest.fixture
def url():
    url = redis_url()
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()


def entries(url) -> dict:
    """The journal's messages, by id."""
    connection = redis.Redis.from_url(url)
    (key,) = connection.keys("astria-bot:outbox:*:calls") or [b"none"]
    return {k.decode(): json.loads(v) for k, v in connection.hgetall(key).items()}


def test_a_queued_reply_is_in_redis_until_it_goes_out_and_never_with_the_token(
    make_live, telegram, url
):
    live = make_live(REDIS_URL=url, TELEGRAM_WEBHOOK_REPLIES="0")
    telegram.fail("sendMessage", 429, retry_after=2, chat_id=8201)
    live.post_update(f.message(8201, "/credits"))
    (kept,) = eventually(lambda: list(entries(url).values()))
    assert kept["method"] == "sendMessage" and kept["params"]["chat_id"] in ("8201", 8201)
    raw = b"".join(v for k in redis.Redis.from_url(url).keys() for v in _values(url, k))
    assert live.rt.settings.telegram_bot_token.encode() not in raw  # never the token
    telegram.clock.skip_next()  # its retry_after is up
    telegram.wait_text(8201, "You have 3 credits")
    eventually(lambda: entries(url) == {})  # gone once sent


def _values(url, key) -> list[bytes]:
    """Everything a Redis key holds, whatever its type."""
    connection = redis.Redis.from_url(url)
    kind = connection.type(key)
    if kind == b"hash":
        return [k + v for k, v in connection.hgetall(key).items()]
    if kind == b"list":
        return connection.lrange(key, 0, -1)
    if kind == b"zset":
        return [m for m, _ in connection.zrange(key, 0, -1, withscores=True)]
    if kind == b"set":
        return list(connection.smembers(key))
    return [connection.get(key) or b""]


def test_a_stopped_processes_message_is_adopted_by_one_process_only(url):
    gone = RedisJournal(redis.Redis.from_url(url), TOKEN, API, refresh=0.2)
    entry, _ = gone.keep("sendMessage", "post", {"chat_id": "7", "text": "Your model is ready"})
    gone.close()  # it stopped with the message queued
    first, second = (
        RedisJournal(redis.Redis.from_url(url), TOKEN, API),
        RedisJournal(redis.Redis.from_url(url), TOKEN, API),
    )
    try:
        taken = first.orphans() + second.orphans()
        assert [e["params"]["text"] for _, e in taken] == ["Your model is ready"]
        assert entry not in entries(url)  # now the adopter's, under its own id
        assert first.orphans() == second.orphans() == []
    finally:
        first.close()
        second.close()


def test_a_live_processes_messages_and_another_bots_are_not_adopted(url):
    alive = RedisJournal(redis.Redis.from_url(url), TOKEN, API, refresh=0.2)
    other_api = RedisJournal(
        redis.Redis.from_url(url), TOKEN, "http://127.0.0.1:8/bot{0}/{1}", refresh=0.2
    )
    adopter = RedisJournal(redis.Redis.from_url(url), TOKEN, API)
    try:
        alive.keep("sendMessage", "post", {"chat_id": "7", "text": "still mine"})
        other_api.keep("sendMessage", "post", {"chat_id": "7", "text": "another Bot API"})
        other_api.close()
        time.sleep(0.5)  # the live one has renewed its key meanwhile
        assert adopter.orphans() == []
        assert len(entries(url)) == 2
    finally:
        alive.close()
        adopter.close()


def test_a_message_older_than_an_hour_is_dropped_unsent(url):
    gone = RedisJournal(redis.Redis.from_url(url), TOKEN, API)
    entry, _ = gone.keep("sendMessage", "post", {"chat_id": "7", "text": "long ago"})
    gone.close()
    connection = redis.Redis.from_url(url)
    (key,) = connection.keys("astria-bot:outbox:*:calls")
    old = {**entries(url)[entry], "at": time.time() - MAX_AGE - 1}
    connection.hset(key, entry, json.dumps(old))
    adopter = RedisJournal(redis.Redis.from_url(url), TOKEN, API)
    try:
        assert adopter.orphans() == []
        assert entries(url) == {}
    finally:
        adopter.close()


def test_an_adopted_message_goes_out_through_the_outbox(url, telegram):
    gone = RedisJournal(redis.Redis.from_url(url), telegram.token, telegram.url + "/bot{0}/{1}")
    gone.keep("sendMessage", "post", {"chat_id": "8202", "text": "Your model is ready"})
    gone.close()
    adopter = RedisJournal(redis.Redis.from_url(url), telegram.token, telegram.url + "/bot{0}/{1}")
    box = Outbox(BotApi(telegram.url).send)
    box.journal = adopter
    try:
        assert box.adopt() == 1
        telegram.wait_text(8202, "Your model is ready")
        eventually(lambda: entries(url) == {})
    finally:
        adopter.close()


def test_a_message_adopted_while_its_owner_still_lives_is_sent_once(url, telegram):
    api = telegram.url + "/bot{0}/{1}"
    first = Outbox(BotApi(telegram.url).send, clock=telegram.clock)
    second = Outbox(BotApi(telegram.url).send)
    first.journal = RedisJournal(
        redis.Redis.from_url(url), telegram.token, api, refresh=100
    )  # it will look dead
    second.journal = RedisJournal(redis.Redis.from_url(url), telegram.token, api)
    try:
        telegram.fail("sendMessage", 429, retry_after=3, chat_id=8203)
        params = {"chat_id": "8203", "text": "Your model is ready"}
        first.request("post", api.format(telegram.token, "sendMessage"), params=params)
        eventually(lambda: entries(url))  # queued behind the 429, and in the journal
        # a Redis stall let its key lapse: the first process looks stopped, but it is not
        redis.Redis.from_url(url).delete(first.journal._alive(first.journal.owner))
        assert second.adopt() == 1
        telegram.wait_text(8203, "Your model is ready")
        assert second.wait_idle(10)
        telegram.clock.skip_next(longer_than=1)  # the first one's retry_after is up
        assert first.wait_idle(10)  # its own try came too, and found the message taken
        sent = [c for c in telegram.calls_to("sendMessage", 8203) if c.error is None]
        assert len(sent) == 1
        assert entries(url) == {}
    finally:
        first.journal.close()
        second.journal.close()
