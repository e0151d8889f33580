"""The outbox's queue under Telegram's pace and refusals, driven directly over HTTP against the
Bot API stand-in, on the clock the two share: one chat's backlog or slow call holds up no other
chat; after a 429 a chat's messages go in order and at its pace, not all at once; a retry_after
that is not a number stops nothing; a message that fails while the app closes is reported as
not sent, not left queued for nobody. (Found by an outside attack on the outbox.)"""

from __future__ import annotations

import pytest

from bot.outbox import Outbox, Pace
from bot.telegram import BotApi


@pytest.fixture
def outbox(telegram):
    made: list[Outbox] = []

    def make(**pace) -> Outbox:
        box = Outbox(BotApi(telegram.url).send, Pace(**pace), clock=telegram.clock)
        made.append(box)
        return box

    yield make
    for box in made:
        box.close()


def send(box: Outbox, telegram, chat: int, text: str):
    """A message, as telebot hands it to the outbox."""
    url = f"{telegram.url}/bot{telegram.token}/sendMessage"
    return box.request("post", url, params={"chat_id": str(chat), "text": text})


def test_one_chats_backlog_holds_up_no_other_chats_reply(outbox, telegram):
    box = outbox()  # as deployed: a chat 1 a second after a burst of 3, the bot 25 a second
    for n in range(12):  # twelve messages to one chat: nine seconds of its pace
        send(box, telegram, 1, f"spam {n}")
    send(box, telegram, 2, "hello")
    reply = telegram.wait_text(2, "hello", timeout=5)
    assert reply.at - telegram.calls_to("sendMessage", 1)[0].at < 0.5  # not after chat 1's
    box.drop(1)


def test_a_slow_call_to_one_chat_holds_up_no_other_chats_paced_messages(outbox, telegram):
    box = outbox(chat_rate=1, chat_burst=1)
    telegram.fail("sendMessage", 200, chat_id=1)  # (the first answers as usual)
    telegram.fail("sendMessage", 200, hang=3, chat_id=1)  # the second hangs 3 s, then answers
    for text in ("x first", "x slow", "x after"):
        send(box, telegram, 1, text)
    for n in range(4):
        send(box, telegram, 2, f"y {n}")
    # chat 2's pace: every wait for it is a wait on the clock, ended at once
    telegram.clock.skip_until(lambda: len(telegram.calls_to("sendMessage", 2)) == 4)
    # all of chat 2's went out while chat 1's slow call still hung (its next waits behind it)
    assert "x after" not in [c.text for c in telegram.calls_to("sendMessage", 1)]
    assert box.wait_idle(10)
    assert [c.text for c in telegram.calls_to("sendMessage", 1)] == ["x first", "x slow", "x after"]


def test_after_a_429_a_chats_messages_go_in_order_at_its_pace(outbox, telegram):
    box = outbox(chat_rate=1, chat_burst=3)
    telegram.fail("sendMessage", 429, retry_after=30, chat_id=1)
    for n in range(4):
        send(box, telegram, 1, f"m {n}")
    telegram.clock.skip_until(
        lambda: len([c for c in telegram.calls_to("sendMessage", 1) if c.error is None]) == 4
    )
    refused, *sent = telegram.calls_to("sendMessage", 1)
    assert refused.error == 429 and [c.text for c in sent] == ["m 0", "m 1", "m 2", "m 3"]
    # not before Telegram allowed it, then one a second: no burst after a 429 (each goes when
    # due or a moment later, so the n-th is at least n seconds past the hold's end)
    after = [round(c.at - refused.at, 3) for c in sent]
    assert all(at >= 30 + n for n, at in enumerate(after)), after


def test_a_retry_after_that_is_not_a_number_is_waited_out_as_a_second(outbox, telegram):
    box = outbox()
    telegram.fail("sendMessage", 429, retry_after=float("nan"), chat_id=1)  # JSON allows NaN
    send(box, telegram, 1, "hello")
    send(box, telegram, 2, "others are answered meanwhile")
    telegram.wait_text(2, "others are answered meanwhile", timeout=5)
    assert 0.5 < telegram.clock.skip_next() <= 1  # a second, as for a retry_after missing
    telegram.wait_text(1, "hello", timeout=5)


def test_a_message_that_fails_while_the_app_closes_is_reported_not_left_queued(outbox, telegram):
    box = outbox(chat_rate=1, chat_burst=1)
    telegram.fail("sendMessage", 200, chat_id=1)  # (the first answers as usual)
    telegram.fail("sendMessage", 502, hang=1, chat_id=1)  # the queued one: late, then a 502
    send(box, telegram, 1, "first")
    with box.watch() as queued:
        send(box, telegram, 1, "second")  # queued behind the first, by the pace
    settled = []
    box.on_settled(queued, settled.append)
    telegram.clock.skip_next()
    telegram.wait_for(lambda calls: [c for c in calls if c.text == "second"])  # in flight
    box.close()  # the app closes while Telegram takes its time, then refuses
    assert settled == [False]  # its job hears it did not go out (an album is sent again)
    assert queued[0].given_up and box.wait_idle(0)  # and nothing is left queued
