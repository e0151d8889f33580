"""The outbox's queue under Telegram's pace and refusals, driven directly over HTTP against the
Bot API stand-in, on the clock the two share: one chat's backlog or slow call holds up no other
chat; after a 429 a chat's messages go in order and at its pace, not all at once; a retry_after
that is not a number stops nothing; a message that fails while the app closes is reported as
not sent, not left queued for nobody. (Found by an outside attack on the outbox.)"""

from __future__ import annotations

import json
import threading

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


def test_a_chats_order_holds_through_a_burst_and_two_429s(outbox, telegram):
    box = outbox(chat_rate=1, chat_burst=3)
    for _ in range(3):
        telegram.fail("sendMessage", 200, chat_id=1)  # (the burst answers as usual)
    telegram.fail("sendMessage", 429, retry_after=3, chat_id=1)  # then m 0, refused twice,
    telegram.fail("sendMessage", 429, retry_after=1, chat_id=1)  # the second time for less
    for text in ("p 0", "p 1", "p 2", "m 0", "m 1", "m 2", "m 3"):
        send(box, telegram, 1, text)
    telegram.clock.skip_until(
        lambda: len([c for c in telegram.calls_to("sendMessage", 1) if c.error is None]) == 7
    )
    sent = [c.text for c in telegram.calls_to("sendMessage", 1) if c.error is None]
    assert sent == ["p 0", "p 1", "p 2", "m 0", "m 1", "m 2", "m 3"]


def test_the_bot_wide_pace_holds_when_many_chats_429s_end_at_once(telegram):
    """Telegram's flood wait for the whole bot: every chat's first message refused until the
    same moment. What follows must still keep to the bot's pace (a scripted Bot API: the stand-in
    cannot make 429s that end together)."""
    clock, sent, refused, lock = telegram.clock, [], set(), threading.Lock()
    until = clock.monotonic() + 6

    def bot_api(method, url, params=None, **kwargs):
        chat, text = params["chat_id"], params["text"]
        with lock:
            if text == "m 0" and chat not in refused:
                refused.add(chat)
                body = {"ok": False, "error_code": 429,
                        "parameters": {"retry_after": until - clock.monotonic()}}  # fmt: skip
                return Answer(429, body)
            sent.append(clock.monotonic())
        return Answer(200, {"ok": True, "result": {"message_id": 1, "chat": {"id": chat}}})

    box = Outbox(bot_api, Pace(chat_rate=1, chat_burst=3, global_rate=10), clock=clock)
    try:
        for chat in range(40):
            for n in range(3):
                box.request("post", "https://api/bot1:t/sendMessage",
                            params={"chat_id": chat, "text": f"m {n}"})  # fmt: skip
        clock.skip_until(lambda: len(sent) == 120, longer_than=0.01, timeout=30)
    finally:
        box.close()
    sent.sort()
    busiest = max(sum(1 for t in sent[i:] if t < start + 1) for i, start in enumerate(sent))
    assert busiest <= 2 * 10 + 1, busiest  # a burst of 10, then 10 a second (it was 30 and more)


class Answer:
    """A Bot API answer as `requests` gives it, for a scripted Bot API."""

    def __init__(self, status: int, body: dict) -> None:
        self.status_code, self.text = status, json.dumps(body)

    def json(self) -> dict:
        return json.loads(self.text)
