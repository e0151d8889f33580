"""Rate limits on the Mini App API (per verified user) and flood control in the chat."""

from __future__ import annotations

import random

import pytest

from tests import factories as f
from tests.support import call, redis_url

# The flood limit as deployed (tests/live.py relaxes it for other tests). The answers' pace is
# tests/live.py's quick one: the pace itself is test_outbox.py's subject.
DEPLOYED = {"FLOOD_MESSAGES": "12"}
FLOOD_WARNING = "You're sending messages too fast. I'll pause for a bit; please slow down."


@pytest.mark.parametrize("counters", ["memory", "redis"])
def test_a_flooding_chat_gets_its_12_answers_then_one_warning(make_live, telegram, counters):
    env = {"REDIS_URL": redis_url()} if counters == "redis" else {}
    live = make_live(**DEPLOYED, **env)
    user = random.randint(10**9, 2 * 10**9)  # fresh counters even in a shared Redis
    for n in range(40):  # 40 messages in well under 2 seconds
        assert live.post_update(f.message(user, f"/help {n}")).status_code == 200
    assert live.rt.chat.outbox.wait_idle(60)
    texts = telegram.texts(user)
    assert len(texts) == 12 + 1  # FLOOD_MESSAGES answers (deployed: 12), then one warning
    assert texts[-1] == FLOOD_WARNING and texts.count(FLOOD_WARNING) == 1
    assert all(t.startswith("What I can do") for t in texts[:-1])
    other = user + 1  # nobody else is affected
    live.post_update(f.message(other, "/help"))
    telegram.wait_text(other, "What I can do")


def test_an_album_of_ten_photos_is_one_burst_and_every_photo_is_answered(make_live, telegram):
    live = make_live(**DEPLOYED)
    user = random.randint(10**9, 2 * 10**9)
    live.post_update(f.message(user, "/train"))
    for n in range(5):
        live.post_update(f.message(user, f"where do I send them {n}?"))
    for n in range(10):  # one album: ten messages in a burst, counted as one
        file_id = f"album-{user}-{n}"
        telegram.add_file(file_id, f.jpeg())
        live.post_update(f.photo(user, file_id, media_group_id=f"g{user}"))
    for _ in range(4):
        live.post_update(f.message(user, "/credits"))
    assert live.rt.chat.outbox.wait_idle(60)
    texts = telegram.texts(user)
    assert FLOOD_WARNING not in texts
    assert len(texts) == 1 + 5 + 10 + 4  # every message answered
    assert texts[6].startswith("Photo 1 of 4 received")
    assert texts[9].startswith("All 4 photos received")
    assert texts[10:16] == [texts[10]] * 6 and "already have" in texts[10]
    assert all(t.startswith("You have 3 credits") for t in texts[16:])


def test_albums_do_not_get_round_the_flood_limit(make_live, telegram):
    live = make_live(**DEPLOYED)
    user = random.randint(10**9, 2 * 10**9)
    live.post_update(f.message(user, "/train"))
    for n in range(11):
        live.post_update(f.message(user, f"text {n}"))  # the window is full now
    for album in range(5):  # fresh albums, each of ten pictures, after the flood began
        for n in range(10):
            file_id = f"flood-{user}-{album}-{n}"
            telegram.add_file(file_id, f.jpeg(640, 640))
            live.post_update(f.photo(user, file_id, 640, 640, media_group_id=f"{user}-{album}"))
    assert live.rt.chat.outbox.wait_idle(60)
    texts = telegram.texts(user)
    assert len(texts) == 12 + 1 and texts[-1] == FLOOD_WARNING
    assert not [t for t in texts if "received" in t]  # no picture got through


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
    assert live.rt.chat.outbox.wait_idle(30)
    assert len(telegram.calls_to("sendMessage")) == 40


def test_counters_in_memory_sweep_once_however_many_threads_count_at_once(tmp_path):
    """The stock memory storage could start one timer twice when two threads counted at once
    (CPython then fails that thread's start); ours starts one sweep at a time. The API's rate
    limits use it too without Redis."""
    import threading

    from tests.live import base_env
    from webapp.app import create_app
    from webapp.counters import SweepingMemoryStorage
    from webapp.settings import Settings

    storage = SweepingMemoryStorage()
    start = threading.Barrier(8)

    def count(n: int) -> None:
        start.wait()
        for i in range(300):
            storage.incr(f"k{n}:{i % 7}", 0.001)  # expiring at once: a sweep is asked each time

    threads = [threading.Thread(target=count, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sweeps = [t for t in threading.enumerate() if t is storage.timer]
    assert len(sweeps) <= 1  # (a thread that failed to start fails this test by itself)
    app = create_app(Settings.from_env(base_env(tmp_path, None)))
    try:
        (limiter,) = app.extensions["limiter"]
        assert isinstance(limiter.storage, SweepingMemoryStorage)
    finally:
        app.extensions["runtime"].close()
