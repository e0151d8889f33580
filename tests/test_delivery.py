"""Work claimed in the store is done once and at least once. An album is delivered at least once
and not forever: one that waits out a long 429 is marked delivered only once Telegram has it, and
no other job sends it meanwhile; one the outbox gave up on is sent again; one Telegram refuses as
URLs and as files goes out as links. A job that takes longer than its lease keeps its claim; one
that raised is tried again soon, or refunded past its deadline. And an update whose sender could
not be registered is not lost: its claim is undone (SQLite)."""

from __future__ import annotations

import time

import pytest

import bot.outbox.queue
import webapp.services.work
from tests import factories as f
from tests.support import eventually, sandbox_prompts, sweeps_after, trained_model
from webapp.records import StoreError

USER = 6301
# claims that run out at once unless renewed, and a sweep that takes over what runs out
QUICK = {"SWEEP_SECONDS": "0.3", "UPLOAD_LEASE_SECONDS": "1"}


def test_an_album_held_by_a_long_429_is_delivered_once_it_goes_out(make_live, telegram):
    live = make_live(TELEGRAM_WEBHOOK_REPLIES="0", **QUICK)
    model = trained_model(live, telegram, USER)
    live.rt.chat.outbox.wait_limit = 0  # the job gets a stand-in at once (a long retry_after)
    try:
        telegram.fail("sendMediaGroup", 429, retry_after=12)  # longer than the job waits
        live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
        left = telegram.clock.next_wait(longer_than=10)  # the outbox waits out the 429
        live.idle()  # the job got a stand-in for the album and returned; Telegram has none
        sweeps_after(live, 1.0)  # sweeps come and go past the album's lease (QUICK: 1 s)
        waiting = live.rt.store.generations_awaiting_delivery()
        assert len(waiting) == 1  # not delivered while it only waits in memory
        assert len(telegram.calls_to("sendMediaGroup", USER)) == 1  # nor sent again meanwhile
        telegram.clock.skip(left)  # the 12 s are up
        telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
        live.idle()
    finally:
        live.rt.chat.outbox.wait_limit = 30.0
    assert live.rt.store.generations_awaiting_delivery() == []
    (refused, sent) = telegram.calls_to("sendMediaGroup", USER)  # the 429, then the album:
    assert refused.error == 429 and sent.error is None  # once: the job kept the claim all along
    assert sent.at - refused.at >= 12  # not before Telegram allowed it


def test_an_album_held_by_a_429_does_not_hold_up_other_work(make_live, telegram):
    live = make_live(JOB_WORKERS="1", TELEGRAM_WEBHOOK_REPLIES="0", **QUICK)  # one job at a time
    held, other = trained_model(live, telegram, USER), trained_model(live, telegram, USER + 1)
    live.rt.chat.outbox.wait_limit = 0  # the job gets a stand-in at once
    try:
        telegram.fail("sendMediaGroup", 429, retry_after=40, chat_id=USER)
        live.post_update(f.callback(USER, f"sty:{held.id}:noir"))
        telegram.wait_for(lambda calls: [c for c in calls if c.error == 429])
        live.post_update(f.callback(USER + 1, f"sty:{other.id}:noir"))
        # the other user's album goes out while the first still waits out its 429
        telegram.wait_text(USER + 1, "Want more pictures with “Me”?", timeout=20)
        held_back = [g.id for g in live.rt.store.list_generations(USER)]
        eventually(  # the other's is marked delivered just after its buttons went out
            lambda: [g.id for g in live.rt.store.generations_awaiting_delivery()] == held_back
        )
    finally:
        live.rt.chat.outbox.wait_limit = 30.0
        live.rt.chat.outbox.close()  # the held album is not waited for


@pytest.mark.expect_errors  # the outbox giving a message up is logged as an error
def test_an_album_the_outbox_gave_up_on_is_sent_again(make_live, telegram, monkeypatch):
    live = make_live(**QUICK)
    model = trained_model(live, telegram, USER)
    monkeypatch.setattr(bot.outbox.queue, "MAX_ATTEMPTS", 2)  # given up after two tries
    telegram.fail("sendMediaGroup", 502, times=2)  # Telegram is down for both
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
    live.idle()
    calls = telegram.calls_to("sendMediaGroup", USER)
    assert [c.error is None for c in calls] == [False, False, True]  # given up, then sent again
    assert live.rt.store.generations_awaiting_delivery() == []
    assert sum("Want more pictures" in t for t in telegram.texts(USER)) == 1


def test_a_prompt_slower_than_its_lease_is_sent_to_astria_once(make_live, telegram):
    live = make_live(**QUICK)
    model = trained_model(live, telegram, USER)
    path = r"/tunes/\d+/prompts"
    live.sandbox_fault(kind="delay", method="POST", path=path, body="3")  # 3 leases long
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
    live.idle()
    assert len(sandbox_prompts(live)) == 1  # the sweep never took it over while it ran
    assert len(telegram.calls_to("sendMediaGroup", USER)) == 1
    assert [e.delta for e in live.rt.store.ledger(USER)] == [3, -1, -1]


@pytest.mark.expect_errors
def test_a_job_that_raised_is_tried_again_soon(make_live, telegram, monkeypatch):
    live = make_live(ASTRIA_RETRY_MINUTES="15", SWEEP_SECONDS="0.3")  # a lease of a minute
    model = trained_model(live, telegram, USER)
    monkeypatch.setattr(webapp.services.work, "RETRY_PAUSE", 1)
    styles = live.rt.services.generations.styles
    real = styles.find
    failures = iter([RuntimeError("a bug, once")])

    def flaky(*args):  # before anything is sent to Astria
        for failure in failures:
            raise failure
        return real(*args)

    monkeypatch.setattr(styles, "find", flaky)
    started = time.monotonic()
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
    assert time.monotonic() - started < 20  # not after the whole lease
    assert len(sandbox_prompts(live)) == 1
    assert [e.delta for e in live.rt.store.ledger(USER)] == [3, -1, -1]


@pytest.mark.expect_errors
def test_a_prompt_astria_made_is_not_sent_again_when_the_store_fails_after(
    make_live, telegram, monkeypatch
):
    live = make_live(ASTRIA_RETRY_MINUTES="15", **QUICK)
    model = trained_model(live, telegram, USER)
    monkeypatch.setattr(webapp.services.work, "RETRY_PAUSE", 1)
    store = live.rt.store
    real = store.mark_generation_submitted
    failures = iter([StoreError("database is locked")])

    def flaky(*args):  # Astria made the prompt; we could not write its id down
        for failure in failures:
            raise failure
        return real(*args)

    monkeypatch.setattr(store, "mark_generation_submitted", flaky)
    live.sandbox_fault(kind="drop_callback", target="prompt")  # and its callback is slow
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    live.wait_faults_used()
    sweeps_after(live, 1.0)  # sweeps come and go past the claim's lease (QUICK: 1 s)
    assert len(sandbox_prompts(live)) == 1  # not paid twice
    (generation,) = live.rt.store.list_generations(USER)
    assert generation.status == "processing"  # for its callback, or the reconciler, to settle


@pytest.mark.expect_errors
def test_a_job_that_keeps_raising_is_refunded_at_its_deadline(make_live, telegram, monkeypatch):
    live = make_live()  # the test settings: no time to wait out (ASTRIA_RETRY_MINUTES=0)
    model = trained_model(live, telegram, USER)

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(live.rt.services.generations.astria, "create_prompt", broken)
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "something went wrong on our side", timeout=20)
    live.idle()
    (generation,) = live.rt.store.list_generations(USER)
    assert generation.status == "failed"
    assert live.rt.store.get_user(USER).credits == 3 - 1  # the generation's credit is back


def test_an_album_whose_upload_waits_out_a_429_after_its_urls_were_refused_goes_once(
    make_live, telegram
):
    live = make_live(TELEGRAM_WEBHOOK_REPLIES="0", **QUICK)
    model = trained_model(live, telegram, USER)
    live.rt.chat.outbox.wait_limit = 1  # the job waits for its answer a second
    try:
        telegram.fail("sendMediaGroup", 429, retry_after=1)  # the URLs wait a moment…
        telegram.fail("sendMediaGroup", 400, description="Bad Request: wrong file")  # …refused
        telegram.fail("sendMediaGroup", 429, retry_after=8)  # the uploaded files wait longer
        live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
        telegram.clock.skip_next()  # the moment is up
        left = telegram.clock.next_wait(longer_than=6)  # the outbox waits out the second 429
        live.idle()  # the job got a stand-in for the upload and returned
        sweeps_after(live, 1.0)  # sweeps come and go past the album's lease meanwhile
        assert len(telegram.calls_to("sendMediaGroup", USER)) == 3  # nothing sent again
        telegram.clock.skip(left)
        telegram.wait_text(USER, "Want more pictures with “Me”?", timeout=30)
        sweeps_after(live, 1.0)  # and after it went out: nothing sent again
    finally:
        live.rt.chat.outbox.wait_limit = 30.0
    sent = [c for c in telegram.calls_to("sendMediaGroup", USER) if c.error is None]
    assert len(sent) == 1 and sent[0].files  # the upload, once
    assert live.rt.store.generations_awaiting_delivery() == []


def test_an_album_refused_as_urls_and_as_files_goes_out_as_links_once(make_live, telegram):
    live = make_live(SWEEP_SECONDS="0.5", UPLOAD_LEASE_SECONDS="1")
    model = trained_model(live, telegram, USER)
    telegram.fail("sendMediaGroup", 400, times=100, description="Bad Request: wrong file")
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "/astria-sandbox/images/", timeout=20)  # the links
    sweeps_after(live, 1.0)  # sweeps come and go past the album's lease: nothing sent again
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
