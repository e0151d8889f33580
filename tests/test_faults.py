"""Faults the product must survive: Telegram 429 and 403, storage failures, admin alerts."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.support import start_training, trained_model
from webapp.records import StoreError

USER = 9900
ADMIN = 424242


def test_telegram_429_is_waited_out_as_asked(live, telegram):
    model_id = trained_model(live, telegram, USER).id
    telegram.fail("sendMediaGroup", 429, retry_after=1, description="Too Many Requests")
    live.post_update(f.callback(USER, f"gen:{model_id}"))
    live.post_update(f.message(USER, "a knight"))
    assert telegram.clock.skip_next() > 0.5  # the outbox waits out the retry_after
    telegram.wait_text(USER, "Want more pictures")
    (refused, sent) = telegram.calls_to("sendMediaGroup", USER)  # refused once, then sent
    assert sent.at - refused.at >= 1


def test_a_user_who_blocked_the_bot_is_marked_and_left_alone(live, telegram):
    model_id = trained_model(live, telegram, USER).id
    telegram.fail("sendMediaGroup", 403, description="Forbidden: bot was blocked by the user")
    live.post_update(f.callback(USER, f"gen:{model_id}"))
    live.post_update(f.message(USER, "a knight"))
    telegram.wait_for(lambda calls: [c for c in calls if c.method == "sendMediaGroup"])
    live.idle()
    assert live.rt.store.get_user(USER).status == "blocked"
    assert not [t for t in telegram.texts(USER) if "Want more" in t]
    # writing to the bot again makes them active again
    live.post_update(f.message(USER, "/credits"))
    assert live.rt.store.get_user(USER).status == "active"


@pytest.mark.expect_errors
def test_storage_down_answers_503_so_telegram_retries_and_admins_hear_once(
    make_live, telegram, monkeypatch
):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))

    def down(*args, **kwargs):
        raise StoreError("database is unavailable")

    monkeypatch.setattr(live.rt.store, "claim_update", down)
    update = f.message(USER, "/start")
    for _ in range(3):
        response = live.post_update(update)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "storage_unavailable"
    alerts = [t for t in telegram.texts(ADMIN) if "storage_unreachable" in t]
    assert alerts == ["⚠️ storage_unreachable: StoreError at POST /api/bot/webhook"]
    monkeypatch.undo()
    assert live.post_update(update).status_code == 200  # the redelivery is then processed
    telegram.wait_text(USER, "You have 3 credits")


@pytest.mark.expect_errors
def test_a_crash_in_a_handler_alerts_the_admins_without_user_data(make_live, telegram, monkeypatch):
    live = make_live(ADMIN_CHAT_IDS=f"{ADMIN}, {ADMIN + 1}")

    def broken(*args, **kwargs):
        raise RuntimeError("secret user prompt text")

    monkeypatch.setattr(live.rt.store, "list_models", broken)
    live.post_update(f.message(USER, "/models"))
    live.post_update(f.message(USER, "/models"))
    for admin in (ADMIN, ADMIN + 1):
        assert telegram.texts(admin) == ["⚠️ unhandled_error: RuntimeError in an update"]
    assert telegram.texts(USER)[-1].startswith("Something went wrong on our side")


@pytest.mark.expect_errors
def test_astria_refusing_our_key_alerts_the_admins(make_live, telegram):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    live.sandbox_fault(
        kind="http", method="POST", path="/tunes", status=401, body={"error": "Invalid API key"}
    )
    start_training(live, telegram, USER)
    telegram.wait_text(USER, "I couldn't train “Me”")
    assert telegram.texts(ADMIN) == ["⚠️ astria_key_refused: Astria answered 401 to POST /tunes"]
    assert live.rt.store.get_user(USER).credits == 3
