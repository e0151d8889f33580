"""/train in the chat: photos, albums, files, refusals, the name, the class, credits, restarts."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.support import make_model, sandbox_tunes, send_photos

USER = 8100


def test_photos_are_counted_down_and_an_album_works(live, telegram):
    send_photos(live, telegram, USER, 4, media_group_id="album-1")
    texts = telegram.texts(USER)
    assert "Photo 1 of 4 received. 3 to go." in texts
    assert "Photo 3 of 4 received. 1 to go." in texts
    assert texts[-1].startswith("All 4 photos received. Now send a name")


def test_small_photos_non_images_and_duplicates_are_refused(live, telegram):
    live.post_update(f.message(USER, "/train"))
    live.post_update(f.photo(USER, "tiny", 200, 200))
    assert telegram.texts(USER)[-1] == (
        "This photo is 200×200 px; I need at least 512 px on each side. Please send a larger one."
    )
    live.post_update(f.document(USER, "doc-pdf", "application/pdf", 1000, "cv.pdf"))
    assert telegram.texts(USER)[-1].startswith("That file isn't a photo")
    # a file that claims to be a JPEG but is not one
    telegram.add_file("fake-jpeg", b"%PDF-1.4 not an image")
    live.post_update(f.document(USER, "fake-jpeg", "image/jpeg", 20, "me.jpg"))
    assert telegram.texts(USER)[-1].startswith("That file isn't a photo")
    # a real image sent as a file, but too small
    telegram.add_file("small-png", f.png(300, 800))
    live.post_update(f.document(USER, "small-png", "image/png", 5000, "me.png"))
    assert "300×800 px" in telegram.texts(USER)[-1]
    # a good image file counts
    telegram.add_file("good-png", f.png(900, 900))
    live.post_update(f.document(USER, "good-png", "image/png", 5000, "me.png"))
    assert telegram.texts(USER)[-1] == "Photo 1 of 4 received. 3 to go."
    # the same photo again is refused
    live.post_update(f.document(USER, "good-png", "image/png", 5000, "me.png"))
    assert telegram.texts(USER)[-1] == "I already have this photo. Please send a different one."
    # text instead of a photo gets a reminder
    live.post_update(f.message(USER, "hello?"))
    assert telegram.texts(USER)[-1] == "Please send photos: 3 more to go. /cancel to stop."


def test_a_fifth_photo_is_not_taken(live, telegram):
    send_photos(live, telegram, USER, 4)
    telegram.add_file("fifth", f.jpeg())
    live.post_update(f.photo(USER, "fifth"))
    assert telegram.texts(USER)[-1].startswith("I already have 4 photos. Now send the name")


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("   ", "The name can't be empty. Send 1–40 characters."),
        ("\u200b\u0007", "The name can't be empty. Send 1–40 characters."),
        ("x" * 200, "That name is too long: 40 characters at most."),
    ],
)
def test_bad_names_are_refused(live, telegram, name, reply):
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, name))
    assert telegram.texts(USER)[-1] == reply
    # a good name afterwards moves on to the class
    live.post_update(f.message(USER, "x" * 40))
    assert telegram.texts(USER)[-1] == "Who is in the photos? This helps the model."


def test_cancel_mid_flow_forgets_the_photos_and_charges_nothing(live, telegram):
    send_photos(live, telegram, USER, 2)
    live.post_update(f.message(USER, "/cancel"))
    assert telegram.texts(USER)[-1] == "Cancelled. Nothing was charged."
    telegram.add_file("later", f.jpeg())
    live.post_update(f.photo(USER, "later"))
    assert telegram.texts(USER)[-1] == "To train a model, start with /train and then send 4 photos."
    live.post_update(f.message(USER, "/cancel"))
    assert telegram.texts(USER)[-1].startswith("There is nothing to cancel")
    assert live.rt.store.get_user(USER).credits == 3


def test_not_enough_credits_is_said_up_front_and_nothing_reaches_astria(make_live, telegram):
    live = make_live(FREE_CREDITS="0")
    live.post_update(f.message(USER, "/train"))
    assert telegram.texts(USER)[-1] == (
        "Training needs 1 credit and you have 0 credits. Nothing was charged."
    )
    assert sandbox_tunes(live) == []


def test_credits_gone_by_the_time_the_class_is_chosen(live, telegram):
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, "Me"))
    live.rt.store.grant(USER, -3, "test", "spent elsewhere")  # the balance drops meanwhile
    live.post_update(f.callback(USER, "cls:woman"))
    telegram.wait_text(USER, "Training needs 1 credit and you have 0 credits.")
    live.idle()
    assert sandbox_tunes(live) == []
    assert live.rt.store.list_models(USER) == []


def test_the_class_keyboard_starts_training_once(live, telegram):
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:woman"))
    live.post_update(f.callback(USER, "cls:woman"))  # a double tap
    telegram.wait_text(USER, "Your model “Me” is ready!")
    assert len(sandbox_tunes(live)) == 1
    assert live.rt.store.get_user(USER).credits == 2
    stale = telegram.calls_to("answerCallbackQuery")[-1]
    assert stale.params.get("text") == "This button is no longer active."


def test_astria_refusing_the_training_refunds_and_tells_the_user(live, telegram):
    live.sandbox_fault(
        kind="http",
        method="POST",
        path="/tunes",
        status=422,
        body={"error": "Images must contain a face"},
    )
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    message = telegram.wait_text(USER, "I couldn't train “Me”")
    assert "the AI service refused it (Images must contain a face)" in message.text
    assert "1 credit returned to your balance." in message.text
    store = live.rt.store
    assert store.get_user(USER).credits == 3
    assert [(e.reason, e.delta) for e in store.ledger(USER)] == [
        ("signup", 3),
        ("train", -1),
        ("train_refund", 1),
    ]
    assert store.list_models(USER)[0].status == "failed"


def test_astria_failing_the_training_later_refunds_once(live, telegram):
    live.sandbox_fault(kind="fail", target="tune", body="bad photos")
    send_photos(live, telegram, USER)
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "I couldn't train “Me”: the AI service refused it (bad photos).")
    live.idle()
    assert live.rt.store.get_user(USER).credits == 3


def test_a_restart_in_the_middle_of_train_continues_the_flow(make_live, telegram):
    first = make_live()
    send_photos(first, telegram, USER, 2)
    first.close()
    second = make_live()  # a new process on the same database
    for n in range(2, 4):
        telegram.add_file(f"after-{n}", f.jpeg())
        second.post_update(f.photo(USER, f"after-{n}"))
    assert telegram.texts(USER)[-1].startswith("All 4 photos received")
    second.post_update(f.message(USER, "Still me"))
    second.post_update(f.callback(USER, "cls:person"))
    telegram.wait_text(USER, "Your model “Still me” is ready!")


def test_an_upload_lost_in_a_crash_is_resumed_by_the_next_process(make_live, telegram):
    first = make_live()
    file_ids = send_photos(first, telegram, USER)
    first.close()
    # the crash: a model charged and recorded, but its photos never reached Astria
    store = first.rt.store
    model = make_model(store, USER, name="Lost", photo_file_ids=file_ids, cost=1)
    second = make_live(SANDBOX_TRAIN_SECONDS="0.1")
    telegram.wait_text(USER, "Your model “Lost” is ready!")
    assert second.rt.store.get_model(model.id).tune_id is not None


def test_photos_telegram_no_longer_has_fail_the_model_and_refund(live, telegram):
    send_photos(live, telegram, USER)
    telegram.files.clear()  # Telegram lost the files
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    message = telegram.wait_text(USER, "I couldn't train “Me”")
    assert "Telegram no longer has the photos" in message.text
    assert live.rt.store.get_user(USER).credits == 3
