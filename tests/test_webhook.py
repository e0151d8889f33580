"""The webhook's contract: the secret header, redeliveries, malformed bodies, and dev mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import factories as f
from tests.live import WEBHOOK_SECRET, LiveApp
from tests.support import make_model


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
    """Telegram delivers an update again only when it did not get the answer (a timeout, a
    broken connection): the redelivery is not handled again, and its answer carries the reply
    the first one made, which Telegram never got."""
    update = f.message(7002, "/help")
    first = live.http.post(  # answered, but Telegram had given up on it: its answer is lost
        f"{live.url}/api/bot/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret_42"},
        timeout=10,
    )
    assert first.status_code == 200 and first.json()["method"] == "sendMessage"
    again = live.post_update(update)
    assert again.status_code == 200 and again.json() == first.json()
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


@pytest.mark.expect_errors
def test_a_failing_handler_apologises_and_still_answers_200(live, telegram, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("storage exploded")

    monkeypatch.setattr(live.rt.store, "list_models", broken)
    response = live.post_update(f.message(7003, "/models"))
    assert response.status_code == 200  # a 500 would make Telegram redeliver it forever
    telegram.wait_text(7003, "Something went wrong on our side")


def _msg(**fields) -> dict:
    return {"message_id": 5, "date": 1_760_000_000, **fields}


PRIVATE = {"id": 7010, "type": "private", "first_name": "Ann"}
ANN = f.sender(7010)
ODD_UPDATES = {
    "a channel post": {"channel_post": _msg(chat={"id": -1001, "type": "channel"}, text="/start")},
    "an edited channel post": {
        "edited_channel_post": _msg(chat={"id": -1001, "type": "channel"}, text="hi")
    },
    "a message sent on behalf of a chat (no from)": {
        "message": _msg(
            chat={"id": -1002, "type": "supergroup", "title": "G"},
            sender_chat={"id": -1002, "type": "supergroup", "title": "G"},
            text="/models",
        )
    },
    "a message without a chat": {"message": _msg(**{"from": ANN}, text="/start")},
    "a message without from or chat": {"message": _msg(text="/credits")},
    "a group message": {
        "message": _msg(
            chat={"id": -1003, "type": "group", "title": "G"}, **{"from": ANN}, text="/models"
        )  # fmt: skip
    },
    "a button press without data (a game)": {
        "callback_query": {
            "id": "q1",
            "from": ANN,
            "chat_instance": "1",
            "game_short_name": "g",
            "message": _msg(chat=PRIVATE, text="…"),
        }  # fmt: skip
    },
    "a button press on an inline message (no message)": {
        "callback_query": {
            "id": "q2",
            "from": ANN,
            "chat_instance": "1",
            "inline_message_id": "AAA",
            "data": "gen:1",
        }  # fmt: skip
    },
    "a button press on a message too old to read": {
        "callback_query": {
            "id": "q3",
            "from": ANN,
            "chat_instance": "1",
            "data": "del:yes",
            "message": {"chat": PRIVATE, "message_id": 9, "date": 0},
        }  # fmt: skip
    },
    "someone joined": {
        "message": _msg(chat=PRIVATE, **{"from": ANN}, new_chat_members=[f.sender(7011)])
    },
    "a pinned message": {
        "message": _msg(chat=PRIVATE, **{"from": ANN}, pinned_message=_msg(chat=PRIVATE, text="x"))
    },
    "data from a keyboard Mini App": {
        "message": _msg(
            chat=PRIVATE, **{"from": ANN}, web_app_data={"data": "{}", "button_text": "Open"}
        )  # fmt: skip
    },
    "a dice": {"message": _msg(chat=PRIVATE, **{"from": ANN}, dice={"emoji": "🎲", "value": 3})},
    "the user blocked the bot": {
        "my_chat_member": {
            "chat": PRIVATE,
            "from": ANN,
            "date": 1_760_000_000,
            "old_chat_member": {"user": f.sender(1), "status": "member"},
            "new_chat_member": {"user": f.sender(1), "status": "kicked", "until_date": 0},
        }  # fmt: skip
    },
    "a reaction": {
        "message_reaction": {
            "chat": PRIVATE,
            "message_id": 5,
            "date": 1,
            "user": ANN,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        }  # fmt: skip
    },
    "a kind of update from the future": {"quantum_message": {"qubits": 3}},
    "unknown fields everywhere": {
        "message": _msg(
            chat={**PRIVATE, "shiny": True},
            **{"from": {**ANN, "aura": 9}},
            text="/help",
            sparkle={"x": [1, 2]},
        )  # fmt: skip
    },
    "a user id past 53 bits": {
        "message": _msg(
            chat={**PRIVATE, "id": 2**62}, **{"from": {**ANN, "id": 2**62}}, text="/credits"
        )  # fmt: skip
    },
    "wrong types": {"message": _msg(chat=PRIVATE, **{"from": ANN}, text=12, photo="x")},
    "an empty update": {},
}


@pytest.mark.parametrize("kind", list(ODD_UPDATES))
def test_any_update_telegram_can_send_is_handled_without_a_crash(live, telegram, kind):
    update = {"update_id": 10**6 + list(ODD_UPDATES).index(kind), **ODD_UPDATES[kind]}
    assert live.post_update(update).status_code == 200
    assert live.rt.chat.outbox.wait_idle(10)
    # nothing is said in groups or channels, and never an apology
    for call in telegram.calls:
        assert (call.chat_id or 0) >= 0
        assert "went wrong" not in call.text


def test_integers_past_64_bits_are_refused_with_400(live, telegram):
    huge = 2**64
    for update in (
        {"update_id": huge, "message": _msg(chat=PRIVATE, **{"from": ANN}, text="/start")},
        {"update_id": 1, "message": _msg(chat=PRIVATE, **{"from": {**ANN, "id": huge}}, text="/s")},
        {"update_id": 2, "message": {**_msg(chat=PRIVATE, text="/start"), "message_id": -huge}},
    ):
        response = live.post_update(update)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "bad_request"
    assert telegram.calls == []


def test_a_user_who_blocks_the_bot_is_marked_and_unblocking_brings_them_back(live, telegram):
    live.post_update(f.message(7012, "/start"))
    blocked = ODD_UPDATES["the user blocked the bot"]["my_chat_member"]
    chat = {**PRIVATE, "id": 7012}
    who = f.sender(7012)
    live.post_update(
        {"update_id": 77_001, "my_chat_member": {**blocked, "chat": chat, "from": who}}
    )
    assert live.rt.store.get_user(7012).status == "blocked"
    back = {**blocked, "chat": chat, "from": who,
            "new_chat_member": {"user": f.sender(1), "status": "member"}}  # fmt: skip
    live.post_update({"update_id": 77_002, "my_chat_member": back})
    assert live.rt.store.get_user(7012).status == "active"


def test_an_updates_first_reply_rides_in_the_webhooks_answer(live, telegram):
    headers = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret_42"}

    def raw(update):  # as Telegram posts it; what the answer carries is not made here
        return live.http.post(f"{live.url}/api/bot/webhook", json=update, headers=headers)

    answer = raw(f.message(7010, "/credits"))
    body = answer.json()
    assert body["method"] == "sendMessage" and body["chat_id"] == 7010
    assert body["text"].startswith("You have 3 credits")
    assert telegram.calls_to("sendMessage", 7010) == []  # no request of our own
    telegram.webhook_answered(answer)
    assert telegram.texts(7010)[-1].startswith("You have 3 credits")

    # an update with two calls makes both itself, in their order: nothing rides in the answer
    raw(f.message(7010, "/delete"))
    mark = len(telegram.calls)
    answer = raw(f.callback(7010, "del:no"))
    assert answer.status_code == 200 and answer.text == ""
    assert [c.method for c in telegram.calls[mark:]] == ["answerCallbackQuery", "editMessageText"]


def test_the_hand_chat_tool_talks_to_the_app_as_telegram_would(live, telegram):
    """tests/say.py, the README's way to try the chat by hand, drives the real webhook."""

    def say(*words: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tests.say", "6401", *words, "--app", live.url,
             "--telegram", telegram.url, "--secret", WEBHOOK_SECRET],
            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "webhook 200" in say("/start") and "Hi, Ann!" in say("/start")
    said = say("/train")
    for n in range(4):
        said += say("--photo", f"{800 + n * 9}x800")
    said += say("Kim")  # the model's name
    said += say("--tap", "cls:woman")
    heard = said + " ".join(telegram.texts(6401))
    assert "All 4 photos received" in heard and "1 credit spent" in heard


def _shapes_no_client_sends() -> list:
    """Updates no Telegram client sends, a forger or a broken proxy may: a message without a
    chat (or a chat without an integer id), text that is not text, a payment or a checkout
    question without its fields, a button press without its sender, data or message. Each is
    refused before telebot sees it; the last, a message in a chat without a sender (as a
    channel post has), is a shape Telegram does send, and goes through to be ignored."""
    sender = f.sender(7301)
    chat = {"id": 7301, "type": "private"}
    message = {"message_id": 1, "date": 1, "from": sender, "text": "/start"}
    press = {"id": "9", "from": sender, "chat_instance": "c", "data": "cls:man"}
    no_id = {k: v for k, v in message.items() if k != "message_id"}
    ok = {**message, "chat": chat}
    paid = {"currency": "XTR", "total_amount": 100, "invoice_payload": "o1"}
    paid |= {"telegram_payment_charge_id": "c1", "provider_payment_charge_id": ""}
    checkout = {"id": "5", "from": sender, "currency": "XTR", "total_amount": 100}
    checkout |= {"invoice_payload": "o1"}
    cases = {
        "message without chat": {"message": message},
        "message with chat null": {"message": {**message, "chat": None}},
        "chat without id": {"message": {**message, "chat": {"type": "private"}}},
        "chat id a string": {"message": {**message, "chat": {**chat, "id": "7301"}}},
        "message without id": {"message": {**no_id, "chat": chat}},
        "message not an object": {"message": "hello"},
        "sender without id": {"message": {**message, "chat": chat, "from": {"first_name": "A"}}},
        "edited message without chat": {"edited_message": message},
        "channel post without chat": {"channel_post": {"message_id": 2, "date": 1, "text": "x"}},
        "callback without message": {"callback_query": press},
        "callback whose message has no chat": {"callback_query": {**press, "message": message}},
        "callback without sender": {
            "callback_query": {"id": "9", "chat_instance": "c", "message": ok}
        },
        "callback data a number": {"callback_query": {**press, "data": 5, "message": ok}},
        "text a number": {"message": {**ok, "text": 123}},
        "business connection a number": {"message": {**ok, "business_connection_id": 5}},
        "topic id as text": {"message": {**ok, "message_thread_id": "5"}},
        "caption a list": {"message": {**ok, "caption": ["x"], "photo": []}},
        "payment payload a number": {
            "message": {**ok, "successful_payment": {**paid, "invoice_payload": 7}}
        },
        "checkout without sender": {"pre_checkout_query": {**checkout, "from": None}},
        "checkout amount as text": {"pre_checkout_query": {**checkout, "total_amount": "100"}},
        "membership change without chat": {
            "my_chat_member": {"chat": None, "from": sender, "date": 1}
        },
    }
    refused = [pytest.param(body, True, id=name) for name, body in cases.items()]
    senderless = {"message": {"message_id": 1, "date": 1, "chat": chat, "text": "/start"}}
    return [*refused, pytest.param(senderless, False, id="message without sender")]


@pytest.mark.parametrize("body,refused", _shapes_no_client_sends())
def test_updates_no_client_sends_get_a_200_no_traceback_and_no_alert(
    live, telegram, caplog, body, refused
):
    caplog.set_level("INFO")
    response = live.post_update({"update_id": 424242, **body})
    assert response.status_code == 200, response.text
    assert ("update=424242 refused:" in caplog.text) == refused, caplog.text
    # nothing raised, no alert (the autouse `incidents` guard fails the test on either), and
    # no reply to anyone
    assert "Traceback" not in caplog.text and telegram.calls_to("sendMessage") == []
    # and the bot goes on as before for a real user
    live.post_update(f.message(7302, "/start"))
    telegram.wait_text(7302, "You have 3 credits")


# Recorded from Telegram by people outside this project (their sources: tests/corpus/SOURCES.md)
CORPUS = Path(__file__).resolve().parent / "corpus" / "telegram"


def _recorded_updates() -> list:
    """The updates recorded from Telegram (tests/corpus/telegram): whole updates, or a message
    or a button press recorded alone (wrapped as Telegram delivers it)."""
    cases = []
    for path in sorted(CORPUS.glob("*.json")):
        body = json.loads(path.read_text())
        if path.name.startswith("message_"):
            body = {"message": body}
        elif path.name.startswith("callback_query_object"):
            body = {"callback_query": body}
        cases.append(pytest.param(body, id=path.stem))
    return cases


def test_the_recorded_updates_are_there_to_replay():
    assert len(_recorded_updates()) >= 40  # an empty set would make the test below pass unrun


@pytest.mark.parametrize("body", _recorded_updates())
def test_every_update_recorded_from_telegram_is_handled_without_an_error(
    live, telegram, caplog, body
):
    """Replayed as Telegram sent them: a 200, nothing raised, no alert, and none refused as a
    shape no client sends, but the press of a button under an inline message (the bot sends
    none, so none can come)."""
    caplog.set_level("INFO")
    response = live.post_update({**body, "update_id": 555_000})
    assert response.status_code == 200, response.text
    inline = "inline_message_id" in body.get("callback_query", {})
    assert ("update=555000 refused:" in caplog.text) == inline, caplog.text
    assert live.rt.chat.outbox.wait_idle(10)
    assert not [c for c in telegram.calls if "went wrong" in c.text]


def test_a_button_under_a_message_the_bot_can_no_longer_read_still_works(live, telegram):
    """Telegram sends the press of a button under an old message (days later) with that
    message's chat and id only, and date 0 (recorded: update_callback_query_inaccessible_message):
    "Train a model" there starts the flow as anywhere else."""
    recorded = json.loads((CORPUS / "update_callback_query_inaccessible_message.json").read_text())
    press = recorded["callback_query"]
    user = press["from"]["id"]
    live.post_update(f.message(user, "/start"))
    mark = telegram.mark()
    assert live.post_update({"update_id": 555_001, "callback_query": {**press, "data": "train"}})
    telegram.wait_text(user, "photos", after=mark)
    # a button whose answer replaces its message says it in a new one (an edit is refused)
    mark = telegram.mark()
    live.post_update({"update_id": 555_002, "callback_query": {**press, "data": "del:no"}})
    said = telegram.wait_text(user, "Nothing was deleted.", after=mark)
    assert said.method == "sendMessage"
    # and a button that turns its message's page (the styles') sends the page anew
    model = make_model(live.rt.store, user, ready_as=4242, name="Old")
    mark = telegram.mark()
    page = {**press, "data": f"stp:{model.id}:1"}
    live.post_update({"update_id": 555_003, "callback_query": page})
    said = telegram.wait_text(user, "Pick a style for “Old”", after=mark)
    assert said.method == "sendMessage" and said.buttons
