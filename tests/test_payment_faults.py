"""Selling credits when things go wrong: storage failing while a payment is recorded, Telegram
refusing or answering with an error page, a buyer who cannot be told, odd or forged payment
updates. Each test came from an outside review; driven over the real webhook (LiveApp + the
Telegram stand-in) and the Mini App API."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.support import call, init_data
from tests.test_payments import buy, pay
from webapp.records import StoreError

USER = 7100
OTHER = 7200
ADMIN = 111
GENERIC_ERROR = "Something went wrong on our side"


def wait_quiet(live) -> None:
    """Wait until the update's jobs are done and the outbox has sent what it queued (replies
    are paced): what the update would ever say is said by then."""
    live.idle()
    assert live.rt.chat.outbox.wait_idle(10)


@pytest.mark.expect_errors
def test_a_payment_whose_recording_fails_is_recorded_when_telegram_delivers_it_again(
    make_live, telegram, store_env, monkeypatch
):
    """Telegram took the Stars; storage hiccups once while the payment is recorded. The update
    must not be acknowledged as done: Telegram's redelivery (or a retry) must grant it."""
    live = make_live(**store_env)
    payload, amount = buy(live, telegram, USER, 10)
    live.post_update(f.pre_checkout(USER, payload, amount))
    charge_id = telegram.charge(USER, amount)
    store = live.rt.store
    real = store.record_payment
    failures = iter([StoreError("connection reset by peer")])

    def flaky(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "record_payment", flaky)
    update = f.successful_payment(USER, payload, amount, charge_id)
    first = live.post_update(update)
    assert first.status_code == 503  # not done: Telegram delivers it again
    assert GENERIC_ERROR not in " ".join(telegram.texts(USER))  # no apology: it comes again
    assert live.post_update(update).status_code == 200
    assert store.get_payment(charge_id) is not None
    assert store.get_user(USER).credits == 3 + 10
    assert live.post_update(update).status_code == 200  # once more: nothing more
    assert store.get_user(USER).credits == 3 + 10
    assert sum("credits added" in text for text in telegram.texts(USER)) == 1


@pytest.mark.expect_errors
@pytest.mark.parametrize("code", [429, 500])
def test_plan_when_telegram_cannot_make_the_link_tells_the_user_to_retry_without_an_alert(
    make_live, telegram, incidents, code
):
    """/plan while Telegram answers createInvoiceLink with 429 or 5xx: a transient refusal, as
    the Mini App already treats it (503 payment_unavailable) — not an unhandled_error alert and
    a generic apology."""
    live = make_live(MONTHLY_PLAN="100:800", ADMIN_CHAT_IDS=str(ADMIN))
    telegram.fail("createInvoiceLink", code, retry_after=3 if code == 429 else None)
    live.post_update(f.message(USER, "/plan"))
    wait_quiet(live)
    assert not any("alert" in line for line in incidents.lines()), incidents.lines()
    assert not any("unhandled_error" in text for text in telegram.texts(ADMIN))
    said = telegram.texts(USER)
    assert said and GENERIC_ERROR not in said[-1], said


@pytest.mark.expect_errors
def test_the_mini_app_invoice_answers_503_when_telegram_answers_with_an_error_page(
    live, telegram, incidents
):
    """A proxy's HTML 502 (or a dropped connection) from createInvoiceLink is as transient as a
    JSON 5xx: 503 payment_unavailable, no 500, no alert."""
    telegram.fail("createInvoiceLink", 502, body="<html><h1>502 Bad Gateway</h1></html>")
    response = call(live, "POST", "/api/bot/invoice", user_id=USER, data={"pack": 10})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "payment_unavailable"
    assert incidents.lines() == []


@pytest.mark.expect_errors
@pytest.mark.parametrize(
    "code, description",
    [(403, "Forbidden: bot was blocked by the user"), (400, "Bad Request: chat not found")],
)
def test_the_admin_is_told_a_refund_was_made_even_when_the_buyer_cannot_be_told(
    make_live, telegram, incidents, code, description
):
    """/refund succeeds (Stars back, credits taken) but the buyer has blocked the bot or is
    gone: the admin must still get "Refunded …", not silence or "something went wrong"."""
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    telegram.fail("sendMessage", code, description=description, chat_id=USER)
    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    wait_quiet(live)
    assert telegram.charges[charge_id]["refunded"]
    assert live.rt.store.get_payment(charge_id).refunded_at is not None
    assert any(t.startswith("Refunded 100 Stars") for t in telegram.texts(ADMIN)), telegram.texts(
        ADMIN
    )
    assert not any("unhandled_error" in line for line in incidents.lines()), incidents.lines()


@pytest.mark.expect_errors
def test_a_deeply_nested_or_huge_json_body_is_a_4xx_not_a_500(live, telegram, incidents):
    """Nested brackets make json raise RecursionError, which get_json(silent=True) lets
    through; bodies past 64 KB are refused before parsing."""
    for path in ("/api/bot/invoice", "/api/bot/generate"):
        for body, status in ((b"[" * 50_000, 400), (b"[" * 100_000, 413)):
            response = live.http.post(
                f"{live.url}{path}",
                data=body,
                headers={
                    "Authorization": f"tma {init_data(USER)}",
                    "Content-Type": "application/json",
                },
                timeout=30,
            )
            assert response.status_code == status, response.text
    assert incidents.lines() == []


def test_a_payment_reported_in_a_group_is_granted_but_the_balance_is_not_posted_there(
    live, telegram
):
    """A successful_payment whose message sits in a group (a forwarded invoice paid there):
    the credits are granted, but the thank-you with the buyer's balance must not be said in the
    group (the bot never talks about credits outside the private chat)."""
    payload, amount = buy(live, telegram, USER, 10)
    live.post_update(f.pre_checkout(USER, payload, amount))
    update = f.successful_payment(USER, payload, amount, telegram.charge(USER, amount))
    update["message"]["chat"] = {"id": -100777, "type": "supergroup", "title": "Friends"}
    live.post_update(update)
    wait_quiet(live)
    assert live.rt.store.get_user(USER).credits == 13
    assert telegram.texts(-100777) == [], telegram.texts(-100777)


@pytest.mark.expect_errors
def test_a_payment_for_less_than_the_order_grants_no_credits(live, telegram):
    """Defence in depth (needs an update with the webhook secret): successful_payment is not
    compared with the order's price, so 0 Stars (or -5) buys the whole pack."""
    payload, _ = buy(live, telegram, USER, 10)
    live.post_update(f.successful_payment(USER, payload, 0, "charge-zero"))
    assert live.rt.store.get_user(USER).credits == 3


def test_a_refunded_payment_from_someone_else_does_not_take_the_buyers_credits(live, telegram):
    """Defence in depth (needs an update with the webhook secret): a refunded_payment is applied
    by charge id alone, whoever it comes from; paid() checks the sender, refunded() does not."""
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    live.post_update(f.refunded_payment(OTHER, payload, amount, charge_id))
    assert live.rt.store.get_user(USER).credits == 13
    assert live.rt.store.get_payment(charge_id).refunded_at is None
