"""Rate limits on the Mini App API (per verified user) and flood control in the chat."""

from __future__ import annotations

import os
import random
import socket

import pytest

from tests import factories as f
from tests.test_api import call


def redis_url() -> str:
    """The local Redis, or a skip (never under CI=true)."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("counters", ["memory", "redis"])
def test_a_flooding_user_is_warned_once_then_ignored(make_live, telegram, counters):
    env = {"REDIS_URL": redis_url()} if counters == "redis" else {}
    live = make_live(**env)
    user = random.randint(10**9, 2 * 10**9)  # fresh counters even in a shared Redis
    for _ in range(30):
        live.post_update(f.message(user, "/help"))
    texts = telegram.texts(user)
    assert texts.count(texts[0]) == 20  # the first 20 in 10 seconds are answered
    assert texts[20:] == [
        "You're sending messages too fast. I'll pause for a bit; please slow down."
    ]
    other = user + 1  # nobody else is affected
    live.post_update(f.message(other, "/help"))
    assert telegram.texts(other)[0].startswith("What I can do")


def test_the_api_limits_each_verified_user_not_the_address(live):
    for _ in range(10):
        response = call(live, "POST", "/api/bot/generate", {"model_id": 1, "prompt": "x"})
        assert response.status_code == 404, response.text  # no such model, but not limited
    limited = call(live, "POST", "/api/bot/generate", {"model_id": 1, "prompt": "x"})
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_requests"
    # another user from the same address is not limited
    other = call(live, "POST", "/api/bot/generate", {"model_id": 1, "prompt": "x"}, user_id=6009)
    assert other.status_code == 404
    # reads have their own, larger budget
    assert call(live, "GET", "/api/bot/me").status_code == 200


def test_the_webhook_is_not_limited_by_address(live, telegram):
    for n in range(40):  # many users behind Telegram's few addresses
        assert live.post_update(f.message(20_000 + n, "/help")).status_code == 200
    assert len(telegram.calls_to("sendMessage")) == 40
