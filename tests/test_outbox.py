"""Telegram's refusals are traffic, not crashes: 429 on a reply, 403, stale edits and answers,
and the pace Telegram allows (per chat and in all). Every test here runs Telegram's limits as
deployed; none may log an error or alert an admin (tests/conftest.py fails it otherwise)."""

from __future__ import annotations

import pytest

from bot import outbox
from tests import factories as f
from tests.support import eventually
from webapp.records import StoreError

ADMIN = 515151
PACE = {
    # every reply here is made by the outbox itself (none rides in the webhook's answer, where
    # Telegram's refusals are Telegram's to see): the outbox's policy is what is tested
    "TELEGRAM_WEBHOOK_REPLIES": "0",
    "TELEGRAM_CHAT_RATE": "1",
    "TELEGRAM_CHAT_BURST": "3",
    "TELEGRAM_GLOBAL_RATE": "25",
    "ADMIN_CHAT_IDS": str(ADMIN),
}


@pytest.fixture
def app(make_live):
    return make_live(**PACE)


def test_a_429_on_a_reply_is_delivered_after_retry_after_and_the_webhook_does_not_wait(
    app, telegram
):
    telegram.fail("sendMessage", 429, retry_after=2, description="Too Many Requests: retry after 2")
    response = app.post_update(f.message(8101, "/credits"))
    assert response.status_code == 200
    # Telegram got the refused call, and the webhook answered without waiting out retry_after
    (refused,) = telegram.calls_to("sendMessage", 8101)
    assert refused.error == 429
    assert telegram.clock.skip_next() > 1.5  # the outbox waits out retry_after…
    delivered = telegram.wait_text(8101, "You have 3 credits")
    assert delivered.at - refused.at >= 2.0  # not before Telegram allowed it
    assert app.rt.chat.outbox.wait_idle(10)
    assert telegram.texts(ADMIN) == []  # one user's Telegram state is not the operator's problem


def test_later_replies_wait_behind_a_429_so_the_chat_reads_in_order(app, telegram):
    telegram.fail("sendMessage", 429, retry_after=1)
    app.post_update(f.message(8102, "/help"))
    app.post_update(f.message(8102, "/credits"))
    app.post_update(f.message(8102, "/cancel"))
    assert app.rt.chat.outbox.wait_idle(15)
    texts = telegram.texts(8102)
    assert [t.split()[0] for t in texts] == ["What", "You", "There"]


def test_a_403_marks_the_user_unreachable_retries_nothing_and_apologises_to_nobody(app, telegram):
    telegram.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    assert app.post_update(f.message(8103, "/credits")).status_code == 200
    assert app.rt.chat.outbox.wait_idle(10)
    assert len(telegram.calls_to("sendMessage", 8103)) == 1  # no retry, no apology
    assert app.rt.store.get_user(8103).status == "blocked"
    assert telegram.texts(ADMIN) == []


def test_telegram_saying_it_is_too_late_or_already_done_is_not_an_error(app, telegram):
    too_old = "query is too old and response timeout expired or query ID is invalid"
    not_modified = "message is not modified: specified new message content and reply markup are"
    telegram.fail("answerCallbackQuery", 400, description=f"Bad Request: {too_old}")
    telegram.fail("editMessageText", 400, description=f"Bad Request: {not_modified} the same")
    app.post_update(f.message(8104, "/delete"))
    assert app.post_update(f.callback(8104, "del:no")).status_code == 200
    telegram.fail("editMessageText", 400, description="Bad Request: message to edit not found")
    assert app.post_update(f.callback(8104, "del:no")).status_code == 200
    assert app.rt.chat.outbox.wait_idle(10)
    assert [c.error for c in telegram.calls_to("editMessageText", 8104)] == [400, 400]
    assert not [t for t in telegram.texts(8104) if "went wrong" in t]  # nothing to apologise for
    assert telegram.texts(ADMIN) == []


def test_replies_go_out_at_telegrams_pace_and_telegram_refuses_none(app, telegram):
    telegram.enforce_flood_limit(per_second=1, burst=5)
    for _ in range(8):  # a fast typist: eight commands at once
        app.post_update(f.message(8105, "/help"))
    assert app.rt.chat.outbox.wait_idle(20)
    sent = [c for c in telegram.calls_to("sendMessage", 8105)]
    assert len(sent) == 8 and not [c for c in sent if c.error]
    # after a burst of 3, at most one a second: n messages span at least n - 3 seconds
    for i in range(len(sent)):
        for j in range(i + 3, len(sent)):
            assert sent[j].at - sent[i].at >= (j - i + 1) - 3 - 0.05


def test_without_pacing_telegrams_429s_are_waited_out_and_nothing_is_lost(make_live, telegram):
    live = make_live(
        TELEGRAM_WEBHOOK_REPLIES="0", TELEGRAM_CHAT_RATE="1000", TELEGRAM_CHAT_BURST="1000"
    )
    telegram.enforce_flood_limit(per_second=1, burst=3)
    for n in range(6):
        live.post_update(f.message(8106, f"/help {n}"))
    assert live.rt.chat.outbox.wait_idle(30)
    calls = telegram.calls_to("sendMessage", 8106)
    assert [c for c in calls if c.error == 429]  # Telegram did refuse some
    assert len(telegram.texts(8106)) == 6  # and every answer arrived


def test_the_whole_bot_stays_under_about_25_messages_a_second(app, telegram):
    for n in range(60):  # sixty users at once
        app.post_update(f.message(30_000 + n, "/help"))
    assert app.rt.chat.outbox.wait_idle(20)
    sent = sorted(c.at for c in telegram.calls_to("sendMessage"))
    assert len(sent) == 60
    for i in range(len(sent)):
        for j in range(i + 1, len(sent)):
            assert (j - i + 1) <= 25 + 25 * (sent[j] - sent[i]) + 1


def test_a_429_on_an_already_queued_reply_keeps_the_chat_in_order(app, telegram):
    for _ in range(3):  # the burst goes out at once
        app.post_update(f.message(8107, "/help"))
    telegram.fail("sendMessage", 429, retry_after=2)  # the 4th reply, queued by the pace, hits it
    app.post_update(f.message(8107, "/credits"))
    app.post_update(f.message(8107, "/cancel"))
    held = eventually(lambda: app.rt.chat.outbox.pacer.held_until(8107))  # waits out the 429
    telegram.clock.skip(held - telegram.clock.monotonic())  # its retry_after is up
    assert app.rt.chat.outbox.wait_idle(20)
    assert [t.split()[0] for t in telegram.texts(8107)] == ["What"] * 3 + ["You", "There"]


def test_a_busy_telegram_on_a_call_that_needs_its_answer_asks_the_user_to_send_again(app, telegram):
    app.post_update(f.message(8108, "/train"))
    telegram.add_file("doc-8108", f.jpeg(800, 800))
    telegram.fail("getFile", 429, retry_after=5)
    document = f.document(8108, "doc-8108", "image/jpeg", 50_000, "me.jpg")
    assert app.post_update(document).status_code == 200
    telegram.wait_text(8108, "Telegram is busy right now")
    assert telegram.texts(ADMIN) == []


@pytest.mark.parametrize(
    "hiccup",
    [
        {"error_code": 502, "body": "<html><h1>502 Bad Gateway</h1></html>"},
        {"error_code": 500, "description": "Internal Server Error"},
        {"error_code": 200, "body": "<html>captive portal</html>"},
    ],
)
def test_a_bot_api_hiccup_on_a_reply_is_sent_again_later_not_an_alert(app, telegram, hiccup):
    telegram.fail("sendMessage", **hiccup)
    assert app.post_update(f.message(8109, "/credits")).status_code == 200
    assert telegram.clock.skip_next() >= 1.5  # a pause before it is tried again
    telegram.wait_text(8109, "You have 3 credits")
    assert telegram.texts(ADMIN) == []


def test_a_bot_api_that_hangs_does_not_hold_the_webhook(app, telegram, monkeypatch):
    monkeypatch.setattr(outbox, "REQUEST_TIMEOUT", (5, 1))  # 10 s when deployed; 1 s is quicker
    telegram.fail("sendMessage", 200, hang=3)  # Telegram answers, but only after 3 s
    response = app.post_update(f.message(8110, "/help"))
    answered = telegram.calls_to("sendMessage", 8110)
    assert response.status_code == 200
    assert answered and answered[0].at + 3 > telegram.clock.monotonic()  # the webhook did not wait
    assert app.rt.chat.outbox.wait_idle(40)
    assert telegram.texts(8110)  # the reply went out (perhaps twice: its answer was lost)
    assert telegram.texts(ADMIN) == []


def test_one_users_429_on_a_button_answer_holds_up_nobody_else(app, telegram):
    telegram.fail("answerCallbackQuery", 429, retry_after=2)
    app.post_update(f.callback(8111, "del:no"))
    app.post_update(f.message(8112, "/help"))
    (refused,) = telegram.calls_to("answerCallbackQuery")
    answered = telegram.wait_text(8112, "What I can do")
    assert answered.at < refused.at + 2  # before that user's retry_after was up


def test_a_nonsensical_retry_after_stops_nothing(app, telegram):
    telegram.fail("sendMessage", 429, retry_after=10**10)
    app.post_update(f.message(8113, "/help"))  # waits an hour, at most
    for user in (8114, 8115, 8116):  # everyone else is answered as usual
        app.post_update(f.message(user, "/help"))
        telegram.wait_text(user, "What I can do", timeout=5)
    assert app.rt.chat.outbox.drop(8113) == 1  # still waiting; not for another test to wait on


def test_a_slow_call_to_one_chat_does_not_stall_the_others(app, telegram):
    for _ in range(3):
        app.post_update(f.message(8117, "/help"))  # the burst
    telegram.fail("sendMessage", 200, hang=3, chat_id=8117)  # its next call hangs, then answers
    app.post_update(f.message(8117, "/credits"))  # queued by the pace, then hangs
    for _ in range(4):
        app.post_update(f.message(8118, "/help"))  # another chat, its 4th reply queued too
    assert app.rt.chat.outbox.wait_idle(30)
    (slow,) = [c for c in telegram.calls_to("sendMessage", 8117) if "You have" in c.text]
    other = telegram.calls_to("sendMessage", 8118)[-1]
    assert other.at < slow.at + 3  # sent while the slow one still hung


def test_a_403_while_the_store_is_down_stalls_nothing(app, telegram, monkeypatch):
    def store_down(*args):
        raise StoreError("database is locked")

    monkeypatch.setattr(app.rt.services.accounts, "set_reachable", store_down)
    telegram.fail("sendMessage", 429, retry_after=1, chat_id=8121)  # queued: the sender's 403
    telegram.fail("sendMessage", 403, description="Forbidden: bot was blocked", chat_id=8121)
    app.post_update(f.message(8121, "/credits"))
    assert app.rt.chat.outbox.wait_idle(10)  # the chat was let go, not left "being sent"
    app.post_update(f.message(8121, "/credits"))  # they unblocked the bot
    telegram.wait_text(8121, "You have 3 credits")
