"""Selling credits for Telegram Stars, over the webhook, on both stores: /buy → invoice →
pre-checkout → payment → credits, once per charge id; refunds; /paysupport and /terms."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from tests import factories as f
from tests.support import call, trained_model

USER = 7100
OTHER = 7200
ADMIN = 111


def invoice_of(telegram, user_id):
    """The last invoice sent to a user: (payload, amount, the call)."""
    sent = telegram.calls_to("sendInvoice", user_id)[-1]
    return sent.params["payload"], json.loads(sent.params["prices"])[0]["amount"], sent


def answers(telegram):
    """Every answerPreCheckoutQuery: (ok, error_message)."""
    return [
        (c.params["ok"] in (True, "true", "True"), c.params.get("error_message"))
        for c in telegram.calls_to("answerPreCheckoutQuery")
    ]


def buy(live, telegram, user_id, credits=50):
    """Tap /buy and a pack: the invoice's payload and amount."""
    live.post_update(f.message(user_id, "/buy"))
    live.post_update(f.callback(user_id, f"buy:{credits}"))
    payload, amount, _ = invoice_of(telegram, user_id)
    return payload, amount


def pay(live, telegram, user_id, payload, amount):
    """Pre-checkout then payment, as Telegram does; the charge id."""
    live.post_update(f.pre_checkout(user_id, payload, amount))
    assert answers(telegram)[-1] == (True, None)
    charge_id = telegram.charge(user_id, amount)
    live.post_update(f.successful_payment(user_id, payload, amount, charge_id))
    return charge_id


def test_a_user_buys_a_pack_in_the_chat_once_per_charge(make_live, telegram, store_env):
    live = make_live(**store_env)
    live.post_update(f.message(USER, "/buy"))
    offer = telegram.calls_to("sendMessage", USER)[-1]
    assert "50 credits for ⭐️ 450: 50 trainings or 50 generations" in offer.text
    assert [b["callback_data"] for b in offer.buttons()] == ["buy:10", "buy:50", "buy:200"]
    assert offer.buttons()[1]["text"] == "50 credits — ⭐️ 450"

    live.post_update(f.callback(USER, "buy:50"))
    payload, amount, sent = invoice_of(telegram, USER)
    assert (sent.params["currency"], amount) == ("XTR", 450)
    assert sent.params.get("provider_token", "") == ""
    assert sent.params["title"] == "50 credits"

    charge_id = pay(live, telegram, USER, payload, amount)
    assert telegram.texts(USER)[-1] == "Thank you! 50 credits added. You have 53 credits."
    store = live.rt.store
    assert store.get_user(USER).credits == 53
    entry = store.ledger(USER)[-1]
    assert (entry.reason, entry.ref, entry.delta) == ("purchase", charge_id, 50)
    payment = store.get_payment(charge_id)
    assert (payment.telegram_id, payment.credits, payment.stars) == (USER, 50, 450)

    # the same update redelivered, and the same charge in a second message: nothing more
    said = len(telegram.texts(USER))
    again = f.successful_payment(USER, payload, amount, charge_id)
    live.post_update(again)
    live.post_update(again)
    assert store.get_user(USER).credits == 53
    assert len(telegram.texts(USER)) == said
    # the paid invoice cannot be paid again
    live.post_update(f.pre_checkout(USER, payload, amount))
    assert answers(telegram)[-1] == (
        False,
        "This invoice is already paid. /buy or /plan makes a new one.",
    )


def test_twenty_deliveries_at_once_over_two_apps_grant_once(make_live, telegram, store_env):
    first, second = make_live(**store_env), make_live(**store_env)
    payload, amount = buy(first, telegram, USER, 10)
    first.post_update(f.pre_checkout(USER, payload, amount))
    charge_id = telegram.charge(USER, amount)
    go = threading.Barrier(20)

    def deliver(n):
        update = f.successful_payment(USER, payload, amount, charge_id)
        go.wait()
        assert (first if n % 2 else second).post_update(update).status_code == 200

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = first.rt.store
    assert store.get_user(USER).credits == 3 + 10
    assert [e.reason for e in store.ledger(USER)].count("purchase") == 1
    assert sum("credits added" in text for text in telegram.texts(USER)) == 1


def test_pre_checkout_refuses_what_does_not_match_the_order(live, telegram):
    payload, amount = buy(live, telegram, USER, 10)
    checks = [
        (f.pre_checkout(USER, payload, amount + 1), "The price has changed."),
        (f.pre_checkout(USER, payload, amount, currency="USD"), "The price has changed."),
        (f.pre_checkout(OTHER, payload, amount), "This invoice was made for someone else."),
        (f.pre_checkout(USER, "o99999", amount), "This invoice is not ours any more."),
        (f.pre_checkout(USER, "nonsense", amount), "This invoice is not ours any more."),
        (f.pre_checkout(USER, "o" + "9" * 40, amount), "This invoice is not ours any more."),
    ]
    for update, words in checks:
        live.post_update(update)
        ok, message = answers(telegram)[-1]
        assert not ok and message.startswith(words), message
    live.post_update(f.pre_checkout(OTHER, payload, amount, language_code="ru"))
    assert answers(telegram)[-1] == (
        False,
        "Этот счёт выписан другому человеку. Свой — через /buy или /plan.",
    )
    assert live.rt.store.get_user(USER).credits == 3  # nothing granted by any of it


def test_a_pack_no_longer_sold_is_refused_at_pre_checkout(make_live, telegram):
    before = make_live()
    payload, amount = buy(before, telegram, USER, 10)
    after = make_live(CREDIT_PACKS="10:150")  # the price went up since the invoice
    after.post_update(f.pre_checkout(USER, payload, amount))
    assert answers(telegram)[-1][0] is False
    after.post_update(f.callback(USER, "buy:50"))  # an old button for a pack no longer sold
    assert "10 credits for ⭐️ 150" in telegram.texts(USER)[-1]


def test_an_admin_refunds_once_and_is_asked_first_when_credits_were_spent(
    make_live, telegram, store_env
):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN), **store_env)
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    store = live.rt.store
    assert store.get_user(USER).credits == 13

    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    assert telegram.texts(ADMIN)[-1] == f"Refunded 100 Stars to {USER}; 10 credits taken back."
    assert telegram.texts(USER)[-1] == (
        "Your payment of 100 Stars was refunded; 10 credits were taken back. You have 3 credits."
    )
    assert telegram.charges[charge_id]["refunded"]
    assert store.get_user(USER).credits == 3
    assert store.ledger(USER)[-1].reason == "purchase_refund"
    # again: Telegram's refund is not asked twice and nothing more is taken
    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    assert telegram.texts(ADMIN)[-1] == "That payment was refunded already."
    # Telegram's own refunded_payment for it changes nothing either
    live.post_update(f.refunded_payment(USER, payload, amount, charge_id))
    assert store.get_user(USER).credits == 3
    assert len(telegram.calls_to("refundStarPayment")) == 1

    # a second purchase whose credits were spent: the admin is asked, then it takes what is left
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    store.grant(USER, -12, "test", "spend")  # 13 - 12: one left
    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    ask = telegram.calls_to("sendMessage", ADMIN)[-1]
    assert ask.text.startswith("The user bought 10 credits with it and has 1 credit left.")
    assert not telegram.charges[charge_id]["refunded"]
    live.post_update(f.callback(ADMIN, ask.buttons()[0]["callback_data"]))
    edited = telegram.calls_to("editMessageText", ADMIN)[-1]
    assert edited.text == f"Refunded 100 Stars to {USER}; 1 credit taken back."
    assert store.get_user(USER).credits == 0 and telegram.charges[charge_id]["refunded"]

    live.post_update(f.message(ADMIN, "/refund nope"))
    assert telegram.texts(ADMIN)[-1] == "There is no payment with that charge id."
    live.post_update(f.message(USER, f"/refund {charge_id}"))  # not an admin
    assert "refund" not in telegram.texts(USER)[-1].lower()


def test_a_refund_telegram_already_made_is_recorded_and_one_it_refuses_is_not(make_live, telegram):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    telegram.fail("refundStarPayment", 400, description="Bad Request: REFUND_PERIOD_EXPIRED")
    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    assert telegram.texts(ADMIN)[-1] == (
        "Telegram did not refund it: Bad Request: REFUND_PERIOD_EXPIRED"
    )
    assert live.rt.store.get_user(USER).credits == 13
    telegram.charges[charge_id]["refunded"] = True  # refunded elsewhere, the message lost
    live.post_update(f.message(ADMIN, f"/refund {charge_id}"))
    assert telegram.texts(ADMIN)[-1].startswith("Refunded 100 Stars")
    assert live.rt.store.get_user(USER).credits == 3


def test_a_refund_made_outside_the_bot_takes_the_credits_back_once(live, telegram, store_env):
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    refunded = f.refunded_payment(USER, payload, amount, charge_id)
    live.post_update(refunded)
    refunded["update_id"] += 10_000
    live.post_update(refunded)
    assert live.rt.store.get_user(USER).credits == 3
    assert sum("was refunded" in text for text in telegram.texts(USER)) == 1


def test_every_no_credits_message_offers_the_packs(live, telegram):
    model = trained_model(live, telegram, USER)  # 3 - 1: two credits left
    live.rt.store.grant(USER, -2, "test", "spend")
    packs = ["buy:10", "buy:50", "buy:200"]
    for update in (
        f.message(USER, "/train"),
        f.message(USER, "/generate"),
        f.callback(USER, f"gen:{model.id}"),
    ):
        live.post_update(update)
        said = telegram.calls_to("sendMessage", USER)[-1]
        assert "you have 0 credits. Nothing was charged." in said.text
        assert [b["callback_data"] for b in said.buttons()] == packs


def test_payments_are_never_lost_to_flood_control_or_odd_chats(make_live, telegram):
    live = make_live(FLOOD_MESSAGES="2")
    payload, amount = buy(live, telegram, USER, 10)
    for _ in range(5):
        live.post_update(f.message(USER, "hi"))  # flooding: ignored
    charge_id = telegram.charge(USER, amount)
    live.post_update(f.successful_payment(USER, payload, amount, charge_id))
    assert live.rt.store.get_payment(charge_id) is not None
    assert live.rt.store.get_user(USER).credits == 13


def test_selling_can_be_turned_off(make_live, telegram):
    live = make_live(CREDIT_PACKS="")
    live.post_update(f.message(USER, "/buy"))
    assert telegram.texts(USER)[-1] == "Credits are not on sale at the moment."
    response = call(live, "POST", "/api/bot/invoice", user_id=USER, data={"pack": 10})
    assert response.status_code == 409 and response.json()["error"]["code"] == "selling_off"


def test_paysupport_and_terms_answer_in_both_languages_and_reach_the_admins(make_live, telegram):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN), REFUND_DAYS="21")
    live.post_update(f.message(USER, "/paysupport"))
    assert "refunded within 21 days" in telegram.texts(USER)[-1]
    live.post_update(f.message(USER, "/terms", language_code="ru"))
    assert telegram.texts(USER)[-1].startswith("Условия продажи")
    assert "в течение 21 дня" in telegram.texts(USER)[-1]
    payload, amount = buy(live, telegram, USER, 10)
    charge_id = pay(live, telegram, USER, payload, amount)
    live.post_update(f.message(USER, "/paysupport I paid but see nothing"))
    assert telegram.texts(USER)[-1] == "Sent. We will answer you here."
    told = telegram.texts(ADMIN)[-1]
    assert "I paid but see nothing" in told and charge_id in told and f"id {USER}" in told
    live.post_update(f.message(USER, "/help"))
    assert "/buy" in telegram.texts(USER)[-1] and "/paysupport" in telegram.texts(USER)[-1]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_command_menu_offers_buying_and_payment_help(live, telegram, lang):
    from bot import go_live

    go_live(live.rt.chat.bot, live.rt.settings)
    menus = telegram.calls_to("setMyCommands")
    menu = next(c for c in menus if c.params.get("language_code", "en") == lang)
    names = [c["command"] for c in json.loads(menu.params["commands"])]
    assert {"buy", "paysupport", "terms"} <= set(names)


def test_the_monthly_plan_grants_each_period_once_and_can_be_canceled_and_resumed(
    make_live, telegram, store_env
):
    live = make_live(MONTHLY_PLAN="100:800", **store_env)
    live.post_update(f.message(USER, "/plan"))
    offer = telegram.calls_to("sendMessage", USER)[-1]
    assert offer.text.startswith("Monthly plan: 100 credits every 30 days for ⭐️ 800")
    slug = offer.buttons()[0]["url"].removeprefix("https://t.me/$")
    link = telegram.invoices[slug]
    assert link["subscription_period"] == "2592000" and link["amount"] == 800
    payload = link["payload"]
    live.post_update(f.pre_checkout(USER, payload, 800))
    assert answers(telegram)[-1] == (True, None)

    ends = int(time.time()) + 30 * 86400
    first = telegram.charge(USER, 800)
    live.post_update(f.successful_payment(USER, payload, 800, first, expires=ends, first=True))
    day = f"{datetime.fromtimestamp(ends, UTC):%Y-%m-%d}"
    assert telegram.texts(USER)[-1] == (
        f"Thank you! 100 credits added; the next ones come on {day}. You have 103 credits."
    )
    # a month later Telegram charges again for the same invoice: a new charge, granted once
    ends += 30 * 86400
    renewal = f.successful_payment(USER, payload, 800, telegram.charge(USER, 800), expires=ends)
    live.post_update(renewal)
    renewal["update_id"] += 10_000
    live.post_update(renewal)
    store = live.rt.store
    assert store.get_user(USER).credits == 203
    day = f"{datetime.fromtimestamp(ends, UTC):%Y-%m-%d}"

    live.post_update(f.message(USER, "/plan"))
    said = telegram.calls_to("sendMessage", USER)[-1]
    assert (
        said.text == f"Your plan: 100 credits every 30 days. The next payment and credits: {day}."
    )
    live.post_update(f.callback(USER, said.buttons()[0]["callback_data"]))
    edit = telegram.calls_to("editUserStarSubscription")[-1]
    assert edit.params["is_canceled"] in (True, "true", "True")
    assert (
        edit.params["telegram_payment_charge_id"]
        == renewal["message"]["successful_payment"]["telegram_payment_charge_id"]
    )
    canceled = telegram.calls_to("editMessageText", USER)[-1]
    assert canceled.text == f"Your plan is canceled: it ends on {day} and will not renew."
    assert store.get_subscription(USER).canceled
    live.post_update(f.callback(USER, "plan:on"))
    assert telegram.calls_to("editUserStarSubscription")[-1].params["is_canceled"] in (
        False,
        "false",
        "False",
    )
    assert not store.get_subscription(USER).canceled


def test_without_a_plan_or_packs_the_menu_does_not_offer_them(make_live, telegram):
    from bot import go_live

    live = make_live(CREDIT_PACKS="")
    go_live(live.rt.chat.bot, live.rt.settings)
    names = [
        c["command"] for c in json.loads(telegram.calls_to("setMyCommands")[-1].params["commands"])
    ]
    assert "buy" not in names and "plan" not in names and "paysupport" in names
    live.post_update(f.message(USER, "/plan"))
    assert telegram.texts(USER)[-1].startswith("There is no monthly plan at the moment.")


def test_the_russian_buyer_is_answered_in_russian(live, telegram):
    live.post_update(f.message(USER, "/buy", language_code="ru"))
    offer = telegram.calls_to("sendMessage", USER)[-1]
    assert "• 50 кредитов за ⭐️ 450: 50 обучений или 50 генераций" in offer.text
    assert offer.buttons()[0]["text"] == "10 кредитов — ⭐️ 100"
    live.post_update(f.callback(USER, "buy:10", language_code="ru"))
    payload, amount, sent = invoice_of(telegram, USER)
    assert sent.params["title"] == "10 кредитов"
    live.post_update(f.pre_checkout(USER, payload, amount, language_code="ru"))
    charge_id = telegram.charge(USER, amount)
    paid = f.successful_payment(USER, payload, amount, charge_id)
    paid["message"]["from"]["language_code"] = "ru"
    live.post_update(paid)
    assert telegram.texts(USER)[-1] == "Спасибо! Начислено: 10 кредитов. У вас 13 кредитов."


def test_a_refunded_plan_ends_and_delete_stops_a_plan_renewing(make_live, telegram):
    live = make_live(MONTHLY_PLAN="100:800", ADMIN_CHAT_IDS=str(ADMIN))
    ends = int(time.time()) + 30 * 86400

    def subscribe(user):
        live.post_update(f.message(user, "/plan"))
        slug = telegram.calls_to("sendMessage", user)[-1].buttons()[0]["url"].split("$")[1]
        payload = telegram.invoices[slug]["payload"]
        charge = telegram.charge(user, 800)
        live.post_update(f.successful_payment(user, payload, 800, charge, expires=ends, first=True))
        return charge

    charge = subscribe(USER)
    live.post_update(f.message(ADMIN, f"/refund {charge}"))
    assert telegram.texts(ADMIN)[-1].startswith("Refunded 800 Stars")
    edit = telegram.calls_to("editUserStarSubscription")[-1]
    assert edit.params["is_canceled"] in (True, "true", "True")
    live.post_update(f.message(USER, "/plan"))
    assert telegram.texts(USER)[-1].startswith("Monthly plan: 100 credits")  # offered again

    subscribe(OTHER)
    live.post_update(f.message(OTHER, "/delete"))
    live.post_update(f.callback(OTHER, "del:yes"))
    assert telegram.calls_to("editUserStarSubscription")[-1].params["user_id"] == str(OTHER)


def test_the_plan_shows_what_the_subscriber_pays_for(make_live, telegram):
    first = make_live(MONTHLY_PLAN="100:800")
    live_ends = int(time.time()) + 30 * 86400
    first.post_update(f.message(USER, "/plan"))
    slug = telegram.calls_to("sendMessage", USER)[-1].buttons()[0]["url"].split("$")[1]
    payload = telegram.invoices[slug]["payload"]
    charge = telegram.charge(USER, 800)
    first.post_update(f.successful_payment(USER, payload, 800, charge, expires=live_ends))
    later = make_live(MONTHLY_PLAN="150:800")  # the offer changed since they subscribed
    later.post_update(f.message(USER, "/plan"))
    assert telegram.texts(USER)[-1].startswith("Your plan: 100 credits every 30 days.")


def test_paysupport_without_admins_says_so_and_admins_can_reply(make_live, telegram):
    alone = make_live(SUPPORT_CONTACT="@help_desk")
    alone.post_update(f.message(USER, "/paysupport where are my credits"))
    assert telegram.texts(USER)[-1] == (
        "Questions cannot be passed on from here at the moment.\nOr write to @help_desk."
    )
    staffed = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    staffed.post_update(f.message(USER, "/paysupport where are my credits", language_code="ru"))
    assert f"Answer with /reply {USER} <text>" in telegram.texts(ADMIN)[-1]
    staffed.post_update(f.message(ADMIN, f"/reply {USER} They are there now."))
    assert telegram.texts(USER)[-1] == "Поддержка: They are there now."
    assert telegram.texts(ADMIN)[-1] == f"Sent to {USER}."
    staffed.post_update(f.message(ADMIN, "/reply nobody"))
    assert telegram.texts(ADMIN)[-1] == "Usage: /reply <telegram_id> <text>"
    staffed.post_update(f.message(USER, f"/reply {ADMIN} hi"))  # not an admin
    assert not telegram.texts(ADMIN)[-1].startswith("hi")
    # a user who blocked the bot: the admin hears so (the message to them is sent at once,
    # not carried in the admin's webhook answer, where its refusal went unseen)
    telegram.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user",
                  chat_id=USER)  # fmt: skip
    staffed.post_update(f.message(ADMIN, f"/reply {USER} Still there?"))
    assert telegram.texts(ADMIN)[-1] == (
        f"Could not reach {USER}: they blocked the bot or never wrote to it."
    )


def test_only_a_plan_on_sale_points_buy_to_plan(make_live, telegram):
    live = make_live(CREDIT_PACKS="", MONTHLY_PLAN="100:800")
    live.post_update(f.message(USER, "/buy"))
    assert (
        telegram.texts(USER)[-1] == "Packs of credits are not on sale; /plan has the monthly plan."
    )


def test_dev_mode_makes_no_order_it_cannot_sell(tmp_path):
    from tests.live import LiveApp

    dev = LiveApp(tmp_path / "dev", telegram=None)
    try:
        raw = dev.rt.settings.dev_bot_token
        from tests.support import init_data

        response = call(dev, "POST", "/api/bot/invoice", auth=f"tma {init_data(1, token=raw)}",
                        data={"pack": 10})  # fmt: skip
        assert response.status_code == 409
        assert response.json()["error"]["reason"] == "no_telegram"
        assert dev.rt.store.get_order(1) is None
    finally:
        dev.close()
