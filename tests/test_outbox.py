"""Telegram's refusals are traffic, not crashes: 429 on a reply, 403, stale edits and answers,
and the pace Telegram allows (per chat and in all). Every test here runs Telegram's limits as
deployed; none may log an error or alert an admin (tests/conftest.py fails it otherwise)."""

from __future__ import annotations

import pytest

from tests import factories as f

ADMIN = 515151
PACE = {"TELEGRAM_CHAT_RATE": "1", "TELEGRAM_CHAT_BURST": "3", "ADMIN_CHAT_IDS": str(ADMIN)}


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
    delivered = telegram.wait_text(8101, "You have 3 credits")
    assert delivered.at - refused.at >= 2.0  # not before Telegram allowed it
    assert app.rt.outbox.wait_idle(10)
    assert telegram.texts(ADMIN) == []  # one user's Telegram state is not the operator's problem


def test_later_replies_wait_behind_a_429_so_the_chat_reads_in_order(app, telegram):
    telegram.fail("sendMessage", 429, retry_after=1)
    app.post_update(f.message(8102, "/help"))
    app.post_update(f.message(8102, "/credits"))
    app.post_update(f.message(8102, "/cancel"))
    assert app.rt.outbox.wait_idle(15)
    texts = telegram.texts(8102)
    assert [t.split()[0] for t in texts] == ["What", "You", "There"]


def test_a_403_marks_the_user_unreachable_retries_nothing_and_apologises_to_nobody(app, telegram):
    telegram.fail("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    assert app.post_update(f.message(8103, "/credits")).status_code == 200
    assert app.rt.outbox.wait_idle(10)
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
    assert app.rt.outbox.wait_idle(10)
    assert [c.error for c in telegram.calls_to("editMessageText", 8104)] == [400, 400]
    assert not [t for t in telegram.texts(8104) if "went wrong" in t]  # nothing to apologise for
    assert telegram.texts(ADMIN) == []


def test_replies_go_out_at_telegrams_pace_and_telegram_refuses_none(app, telegram):
    telegram.enforce_flood_limit(per_second=1, burst=5)
    for _ in range(8):  # a fast typist: eight commands at once
        app.post_update(f.message(8105, "/help"))
    assert app.rt.outbox.wait_idle(20)
    sent = [c for c in telegram.calls_to("sendMessage", 8105)]
    assert len(sent) == 8 and not [c for c in sent if c.error]
    # after a burst of 3, at most one a second: n messages span at least n - 3 seconds
    for i in range(len(sent)):
        for j in range(i + 3, len(sent)):
            assert sent[j].at - sent[i].at >= (j - i + 1) - 3 - 0.05


def test_without_pacing_telegrams_429s_are_waited_out_and_nothing_is_lost(make_live, telegram):
    live = make_live(TELEGRAM_CHAT_RATE="1000", TELEGRAM_CHAT_BURST="1000")
    telegram.enforce_flood_limit(per_second=1, burst=3)
    for n in range(6):
        live.post_update(f.message(8106, f"/help {n}"))
    assert live.rt.outbox.wait_idle(30)
    calls = telegram.calls_to("sendMessage", 8106)
    assert [c for c in calls if c.error == 429]  # Telegram did refuse some
    assert len(telegram.texts(8106)) == 6  # and every answer arrived


def test_the_whole_bot_stays_under_about_25_messages_a_second(app, telegram):
    for n in range(60):  # sixty users at once
        app.post_update(f.message(30_000 + n, "/help"))
    assert app.rt.outbox.wait_idle(20)
    sent = sorted(c.at for c in telegram.calls_to("sendMessage"))
    assert len(sent) == 60
    for i in range(len(sent)):
        for j in range(i + 1, len(sent)):
            assert (j - i + 1) <= 25 + 25 * (sent[j] - sent[i]) + 1
