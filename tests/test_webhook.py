"""The webhook's contract: the secret header, redeliveries, malformed bodies, and dev mode."""

from __future__ import annotations

from tests import factories as f
from tests.live import LiveApp


def test_missing_or_wrong_secret_is_refused_and_nothing_is_processed(live, telegram):
    update = f.message(7001, "/start")
    for secret in (None, "wrong-secret", ""):
        response = live.post_update(update, secret=secret)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert telegram.calls == []
    assert live.rt.store.get_user(7001) is None
    # the same update delivered properly afterwards is still processed: it was never claimed
    assert live.post_update(update).status_code == 200
    telegram.wait_text(7001, "You have 3 credits")


def test_a_redelivered_update_has_no_second_effect(live, telegram):
    update = f.message(7002, "/help")
    assert live.post_update(update).status_code == 200
    assert live.post_update(update).status_code == 200
    assert len(telegram.calls_to("sendMessage", 7002)) == 1


def test_malformed_bodies_get_400_and_unknown_update_kinds_are_ignored(live, telegram):
    headers = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret_42"}
    for body in (b"not json", b"[1, 2]", b'{"no_update_id": 1}', b'{"update_id": "x"}'):
        response = live.http.post(
            f"{live.url}/api/bot/webhook", data=body, headers=headers, timeout=10
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"
    # a kind of update the bot does not handle (a poll) is accepted and ignored
    response = live.post_update(
        {
            "update_id": 99,
            "poll": {
                "id": "1",
                "question": "?",
                "options": [],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        }
    )
    assert response.status_code == 200
    assert telegram.calls == []


def test_dev_mode_has_no_webhook(tmp_path):
    app = LiveApp(tmp_path, telegram=None)
    try:
        response = app.post_update(f.message(1, "/start"))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_configured"
        assert app.http.get(f"{app.url}/healthz").json() == {"ok": True}
        assert app.http.get(f"{app.url}/readyz").json() == {"ok": True}
    finally:
        app.close()


def test_a_failing_handler_apologises_and_still_answers_200(live, telegram, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(live.rt.store, "list_models", broken)
    response = live.post_update(f.message(7003, "/models"))
    assert response.status_code == 200  # a 500 would make Telegram redeliver it forever
    telegram.wait_text(7003, "Something went wrong on our side")
