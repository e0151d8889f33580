"""Photoshoot orders: /photoshoot in the chat and POST /api/bot/photoshoots, run on the sandbox's
packs: charged once, the pictures delivered as they come with one progress message, and what
never came refunded in proportion (webapp/services/shoots.py)."""

from __future__ import annotations

import json
import re

import pytest

from tests import factories as f
from tests.support import call, eventually, make_model, sandbox, send_photos, trained_model
from webapp.records import Shoot
from webapp.services.shoots import refund_for

USER = 9300
HEADSHOTS = 260  # the sandbox's corporate headshots: 16 templates per class, a picture each


def shoot_of(live, user: int = USER) -> Shoot:
    (shoot,) = live.rt.store.list_shoots(user)
    return shoot


def ledger(live, user: int = USER) -> list[tuple[int, str]]:
    return [(e.delta, e.reason) for e in live.rt.store.ledger(user) if "photoshoot" in e.reason]


def confirm_message(telegram, user: int = USER):
    """The last message with a photoshoot's confirm button, and that button's data."""
    sent = [c for c in telegram.calls_to("sendMessage", user)
            if any(b.get("callback_data", "").startswith("psc:") for b in c.buttons())]  # fmt: skip
    button = next(b for b in sent[-1].buttons() if b["callback_data"].startswith("psc:"))
    return sent[-1], button["callback_data"]


def test_a_photoshoot_in_the_chat_arrives_with_one_progress_message_and_is_charged_once(
    make_live, telegram, store_env
):
    live = make_live(**store_env)
    model = trained_model(live, telegram, USER, "Me", "woman")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    live.post_update(f.message(USER, "/photoshoot"))
    covers = [c for c in telegram.calls_to("sendMessage", USER)
              if c.buttons() and c.buttons()[0]["callback_data"].startswith("psh:")]  # fmt: skip
    assert len(covers) == 3  # the sandbox's three packs, a card each, its cover as the preview
    assert covers[0].text.startswith("Corporate headshots\nStudio-grade portraits")
    assert "16 images · 25 credits" in covers[0].text
    preview = json.loads(covers[0].params["link_preview_options"])
    assert preview["url"].endswith("/astria-sandbox/images/packs/260/cover.jpg")
    assert preview["prefer_large_media"] and preview["show_above_text"]
    assert [b["callback_data"] for b in covers[0].buttons()] == [f"psh:{HEADSHOTS}"]

    live.post_update(f.callback(USER, f"psh:{HEADSHOTS}"))
    (samples,) = telegram.calls_to("sendMediaGroup", USER)
    assert len(json.loads(samples.params["media"])) == 10  # the woman's samples: 10 of 16
    telegram.wait_text(USER, "“Corporate headshots” with “Me”")  # after the album, at chat pace
    confirm, data = confirm_message(telegram)
    assert (
        confirm.text
        == "“Corporate headshots” with “Me”: 16 images for 25 credits. You have 42 credits."
    )
    assert data == f"psc:{HEADSHOTS}:{model.id}"

    message_id = confirm.result["message_id"]
    mark = telegram.mark()
    live.post_update(f.callback(USER, data, message_id=message_id))
    live.post_update(f.callback(USER, data, message_id=message_id))  # a second tap: the same order
    telegram.wait_text(USER, "Photoshoot “Corporate headshots” is complete: 16 images.", after=mark)
    live.idle()
    shoot = shoot_of(live)
    assert (shoot.status, shoot.refunded, shoot.message_id) == ("done", 0, message_id)
    assert ledger(live) == [(-25, "photoshoot")]
    assert live.rt.store.get_user(USER).credits == 42 - 25
    photos = telegram.calls_to("sendPhoto", USER)
    assert len(photos) == 16
    assert all(c.params["caption"] == "“Corporate headshots”" for c in photos)
    started = [t for t in telegram.texts(USER) if t.startswith("Photoshoot “Corporate headshots” "
                                                            "started with “Me”")]  # fmt: skip
    assert len(started) == 1 and started[0].endswith("25 credits spent; 17 credits left.")
    edits = [c.text for c in telegram.calls_to("editMessageText", USER)
             if int(c.params["message_id"]) == message_id and c.error is None]  # fmt: skip
    progress = [re.fullmatch(r"Photoshoot “Corporate headshots”: (\d+) of 16 ready…", e)
                for e in edits]  # fmt: skip
    assert progress and all(progress)  # one message, edited in place: no message per picture
    # at most "15 of 16" (the 16th is the summary; prompts that come together count together)
    assert 1 <= max(int(m.group(1)) for m in progress) <= 15
    said = [c.text for c in telegram.calls_to("sendMessage", USER)]
    assert len(said) == len(set(said))  # nothing said twice
    # the gallery has the sixteen pictures under the model
    page = live.rt.services.generations.gallery(USER, model.id, size=30)
    assert len(page) == 16 and {g.shoot_id for g in page} == {shoot.id}


def test_failed_and_silent_prompts_are_refunded_in_proportion_at_the_deadline(
    make_live, telegram, store_env
):
    live = make_live(PHOTOSHOOT_DEADLINE_MINUTES="0.001", **store_env)
    model = trained_model(live, telegram, USER, "Me", "man")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    live.sandbox_fault(kind="fail", target="prompt", body="nsfw", times=1)
    live.sandbox_fault(kind="drop_callback", target="prompt", times=1)
    shoot, balance, _ = live.rt.services.shoots.start(
        USER, photoshoot=HEADSHOTS, model_id=model.id, lang="en", key="k1"
    )
    assert balance == 42 - 25
    # fifteen prompts call back (one of them failed); one never does: the sweep asks Astria
    eventually(lambda: len(live.rt.store.shoot_prompts(shoot.id)) >= 15, timeout=20)
    eventually(lambda: live.rt.services.shoots.sweep() or shoot_of(live).status == "done",
               timeout=20)  # fmt: skip
    live.idle()
    settled = shoot_of(live)
    kept = live.rt.store.shoot_prompts(shoot.id)
    delivered = sum(len(g.images) for g in kept)
    assert delivered == 15  # the silent one was asked for; the failed one made nothing
    assert settled.refunded == refund_for(settled, 15) == 2  # 25 × 1/16, rounded up
    assert ledger(live) == [(-25, "photoshoot"), (2, "photoshoot_refund")]
    telegram.wait_text(USER, "Photoshoot “Corporate headshots” is over: 15 of 16 pictures came.")
    telegram.wait_text(USER, "2 credits returned to your balance.")


@pytest.mark.parametrize("delivered, refund", [(0, 25), (1, 19), (2, 13), (3, 7), (4, 0), (9, 0)])
def test_the_refund_is_the_missing_share_rounded_in_the_users_favour(delivered, refund):
    shoot = Shoot(1, 1, 1, HEADSHOTS, "t", "man", 25, 4, 4, "processing", (), None)
    assert refund_for(shoot, delivered) == refund


def test_the_api_orders_a_photoshoot_and_refuses_what_it_cannot_run(live, telegram):
    model = trained_model(live, telegram, 6001, "Me", "man")
    other = trained_model(live, telegram, 6002, "Them", "man")
    unknown = call(live, "POST", "/api/bot/photoshoots", {"photoshoot": 999, "model_id": model.id})
    assert unknown.status_code == 404
    theirs = call(live, "POST", "/api/bot/photoshoots", {"photoshoot": HEADSHOTS,
                                                        "model_id": other.id})  # fmt: skip
    assert theirs.status_code == 404
    poor = call(live, "POST", "/api/bot/photoshoots", {"photoshoot": HEADSHOTS,
                                                      "model_id": model.id})  # fmt: skip
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "not_enough_credits"
    assert live.rt.store.list_shoots(6001) == []
    live.rt.store.grant(6001, 40, "test", "photoshoot")
    body = {"photoshoot": HEADSHOTS, "model_id": model.id}
    made = call(live, "POST", "/api/bot/photoshoots", body)
    assert made.status_code == 201, made.text
    order = made.json()["photoshoot_order"]
    assert (order["images"], order["price"], order["status"]) == (16, 25, "processing")
    assert made.json()["credits"] == 42 - 25
    eventually(lambda: shoot_of(live, 6001).status == "done", timeout=20)
    mine = call(live, "GET", "/api/bot/photoshoots/orders").json()["orders"]
    assert [(o["id"], o["ready"], o["status"]) for o in mine] == [(order["id"], 16, "done")]


def test_repeated_forged_and_foreign_callbacks_change_nothing(live, telegram):
    model = trained_model(live, telegram, USER, "Me", "man")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    shoot, _, _ = live.rt.services.shoots.start(
        USER, photoshoot=HEADSHOTS, model_id=model.id, lang="en", key="once"
    )
    eventually(lambda: shoot_of(live).status == "done", timeout=20)
    live.idle()
    settled = shoot_of(live)
    photos = len(telegram.calls_to("sendPhoto", USER))
    balance = live.rt.store.get_user(USER).credits
    first = int(settled.prompt_ids[0])
    again = sandbox(live, "GET", f"/prompts/{first}").json()
    repeat = live.callback("shoot", shoot.id, {"prompt": again})
    assert repeat.status_code == 200 and repeat.json()["outcome"] == "repeat"
    forged = live.callback("shoot", shoot.id, {"prompt": again}, token="nope")
    assert forged.status_code == 403
    stranger = {**again, "id": 99_999_999}  # a prompt that is not one of the order's
    assert live.callback("shoot", shoot.id, {"prompt": stranger}).status_code == 403
    other = live.callback("shoot", shoot.id + 1, {"prompt": again})  # no such order
    assert other.status_code == 403
    live.idle()
    assert len(telegram.calls_to("sendPhoto", USER)) == photos  # nothing delivered twice
    assert live.rt.store.get_user(USER).credits == balance
    assert ledger(live) == [(-25, "photoshoot")]


def test_a_user_who_deletes_their_data_takes_their_photoshoots_along(
    make_live, telegram, store_env
):
    live = make_live(**store_env)
    model = trained_model(live, telegram, USER, "Me", "man")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    live.rt.services.shoots.start(USER, photoshoot=HEADSHOTS, model_id=model.id, lang="en")
    eventually(lambda: shoot_of(live).status == "done", timeout=20)
    live.idle()
    assert call(live, "DELETE", "/api/bot/me", user_id=USER).status_code == 200
    assert live.rt.store.list_shoots(USER) == []  # the orders went with the user
    assert live.rt.services.generations.store.list_generations(USER) == []
    live.idle()
    gone = [p for p in sandbox(live, "GET", f"/tunes/{model.tune_id}/prompts").json()]
    assert gone == []  # the photoshoot's prompts were deleted on Astria too


def test_a_user_without_a_model_orders_a_photoshoot_that_starts_when_the_model_is_ready(
    make_live, telegram, store_env
):
    live = make_live(SWEEP_SECONDS="0.3", **store_env)  # the sweep sends the waiting order
    live.post_update(f.message(USER, "/start"))
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    live.post_update(f.callback(USER, f"psh:{HEADSHOTS}"))
    offer = telegram.wait_text(USER, "A photoshoot is made with your own model")
    (button,) = offer.buttons()
    assert button == {"text": "🧑‍🎨 Create a model for it · 26 credits",
                      "callback_data": f"pst:{HEADSHOTS}"}  # fmt: skip
    send_photos(live, telegram, USER, begin=f.callback(USER, button["callback_data"]))
    live.post_update(f.message(USER, "New me"))
    live.post_update(f.callback(USER, "cls:woman"))
    telegram.wait_text(USER, "When “New me” is ready, the photoshoot “Corporate headshots” "
                             "starts by itself. 25 credits spent; 17 credits left.")  # fmt: skip
    telegram.wait_text(USER, "Your model “New me” is ready!")
    telegram.wait_text(USER, "Photoshoot “Corporate headshots” is complete: 16 images.", timeout=30)
    live.idle()
    shoot = shoot_of(live)
    (model,) = live.rt.store.list_models(USER)
    assert (shoot.model_id, shoot.status, shoot.refunded) == (model.id, "done", 0)
    assert shoot.created_at < model.trained_at  # ordered with the training, run after it
    assert ledger(live) == [(-25, "photoshoot")]
    assert live.rt.store.get_user(USER).credits == 3 + 40 - 1 - 25


def test_a_photoshoot_whose_model_fails_to_train_is_refunded_whole(make_live, telegram):
    live = make_live(SWEEP_SECONDS="0.3")
    live.sandbox_fault(kind="fail", target="tune", body="bad photos")
    live.post_update(f.message(USER, "/start"))
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    send_photos(live, telegram, USER, begin=f.callback(USER, f"pst:{HEADSHOTS}"))
    live.post_update(f.message(USER, "Doomed"))
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "I couldn't train “Doomed”")
    telegram.wait_text(USER, "I couldn't run the photoshoot “Corporate headshots”. Its model "
                             "could not be trained.\n25 credits returned")  # fmt: skip
    assert ledger(live) == [(-25, "photoshoot"), (25, "photoshoot_refund")]


def test_the_api_orders_once_per_key_and_refuses_a_model_of_another_class(live, telegram):
    model = trained_model(live, telegram, 6001, "Me", "man")
    live.rt.store.grant(6001, 60, "test", "photoshoot")
    person = make_model(live.rt.store, 6001, class_name="person", ready_as=4242)
    wrong = call(live, "POST", "/api/bot/photoshoots",
                 {"photoshoot": HEADSHOTS, "model_id": person.id})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["error"]["reason"] == "photoshoot_class"
    assert (
        call(
            live, "POST", "/api/bot/photoshoots", {"photoshoot": True, "model_id": model.id}
        ).status_code
        == 422
    )  # fmt: skip (a boolean is not a pack id)
    body = {"photoshoot": HEADSHOTS, "model_id": model.id, "key": "tap-1"}
    first = call(live, "POST", "/api/bot/photoshoots", body)
    again = call(live, "POST", "/api/bot/photoshoots", body)  # the same tap, retried
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["photoshoot_order"]["id"] == again.json()["photoshoot_order"]["id"]
    assert ledger(live, 6001) == [(-25, "photoshoot")]


def test_a_run_astria_answers_without_prompt_ids_finds_them_on_the_tune(live, telegram):
    model = trained_model(live, telegram, USER, "Me", "woman")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    live.sandbox_fault(kind="no_ids", target="pack")  # {"status": 201, "message": …}
    shoot, _, _ = live.rt.services.shoots.start(
        USER, photoshoot=HEADSHOTS, model_id=model.id, lang="en"
    )
    eventually(lambda: shoot_of(live).status == "done", timeout=20)
    settled = shoot_of(live)
    assert len(settled.prompt_ids) == 16  # the tune's new prompts, listed before and after
    assert (settled.refunded, len(live.rt.store.shoot_prompts(shoot.id))) == (0, 16)


def test_sample_pictures_telegram_cannot_fetch_leave_the_words(live, telegram):
    trained_model(live, telegram, USER, "Me", "woman")
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    telegram.fail("sendMediaGroup", 400, description="Bad Request: failed to get HTTP URL content")
    live.post_update(f.callback(USER, f"psh:{HEADSHOTS}"))
    telegram.wait_text(USER, "“Corporate headshots” with “Me”")  # the confirm still comes
    assert [c.error for c in telegram.calls_to("sendMediaGroup", USER)] == [400]
    assert not [t for t in telegram.texts(USER) if "went wrong" in t]  # not an update failure


def test_a_model_made_for_a_photoshoot_is_offered_only_the_classes_it_makes(live, telegram):
    live.post_update(f.message(USER, "/start"))
    live.rt.store.grant(USER, 40, "test", "photoshoot")
    send_photos(live, telegram, USER, begin=f.callback(USER, f"pst:{HEADSHOTS}"))
    live.post_update(f.message(USER, "For headshots"))
    ask = telegram.wait_text(USER, "Who is in the photos?")
    assert [b["callback_data"] for b in ask.buttons()] == ["cls:man", "cls:woman"]
