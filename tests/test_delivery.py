"""An album is delivered at least once and not forever: one that waits out a long 429 is marked
delivered only once Telegram has it; one Telegram refuses as URLs and as files goes out as links.
And an update whose sender could not be registered is not lost: its claim is undone (SQLite)."""

from __future__ import annotations

import time

import pytest

from bot import OUTBOX
from tests import factories as f
from tests.support import trained_model
from webapp.records import StoreError

USER = 6301


def test_an_album_held_by_a_long_429_is_delivered_once_it_goes_out(make_live, telegram):
    live = make_live(TELEGRAM_WEBHOOK_REPLIES="0")
    model = trained_model(live, telegram, USER)
    OUTBOX.wait_limit = 0  # the job gets a stand-in after 5 s, as after a long retry_after
    try:
        telegram.fail("sendMediaGroup", 429, retry_after=12)  # longer than the job waits
        live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
        telegram.wait_for(lambda calls: [c for c in calls if c.method == "sendMediaGroup"])
        time.sleep(10.5)  # the job has stand-ins (album and its follow-up); Telegram has neither
        waiting = live.rt.store.generations_awaiting_delivery()
        assert len(waiting) == 1  # not delivered while it only waits in memory
        telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
        live.idle()
    finally:
        OUTBOX.wait_limit = 30.0
    assert live.rt.store.generations_awaiting_delivery() == []
    sent = [c for c in telegram.calls_to("sendMediaGroup", USER) if c.error is None]
    assert len(sent) == 1  # once: not again by the sweep


def test_an_album_refused_as_urls_and_as_files_goes_out_as_links_once(make_live, telegram):
    live = make_live(SWEEP_SECONDS="0.5", UPLOAD_LEASE_SECONDS="1")
    model = trained_model(live, telegram, USER)
    telegram.fail("sendMediaGroup", 400, times=100, description="Bad Request: wrong file")
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "/astria-sandbox/images/", timeout=20)  # the links
    live.idle()
    time.sleep(2)  # sweeps come and go: nothing is sent again
    live.idle()
    assert live.rt.store.generations_awaiting_delivery() == []
    assert len(telegram.calls_to("sendMediaGroup", USER)) == 2  # as URLs, as files: then links


@pytest.mark.expect_errors
def test_an_update_whose_sender_cannot_be_registered_is_delivered_again(
    live, telegram, monkeypatch
):
    store = live.rt.store
    real = store.ensure_user
    failures = iter([StoreError("database is locked")])

    def flaky(*args, **kwargs):
        for failure in failures:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "ensure_user", flaky)
    update = f.message(USER, "/credits")
    assert live.post_update(update).status_code == 503  # Telegram will deliver it again
    assert live.post_update(update).status_code == 200  # … and then it is answered
    assert telegram.texts(USER)[-1].startswith("You have 3 credits")
