"""The photo check before paying: Astria's /images/inspect (the sandbox's honest heuristics
offline) finds photos that would train badly, per photo, in the chat and in the Mini App; what
it sees most goes with the tune; a check that fails or is slow never blocks training."""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import ImageFilter

from tests import factories as f
from tests.support import call, good_photos, upload
from webapp.astria import Photo
from webapp.jobs import Jobs
from webapp.records import MarkKind
from webapp.services.inspection import Verdict, characteristics, mismatched, verdict

VERDICT = MarkKind.PHOTO_VERDICT
USER = 6001


def blurred(width=900, height=900) -> bytes:
    """A photo out of focus (its edges gone)."""
    image = f.picture(width, height, (90, 140, 60)).filter(ImageFilter.GaussianBlur(width / 120))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_astrias_answer_becomes_problems_and_characteristics():
    answer = {
        "name": "woman",
        "blurry": "true",
        "wearing_sunglasses": True,
        "wearing_hat": "false",
        "includes_multiple_people": False,
        "age": "30 yo",
        "hair_color": "black hair",
        "glasses": "NONE",
    }
    seen = verdict("man", answer)
    assert seen.problems == ("blurry", "sunglasses", "other_class")
    assert seen.traits == {"age": "30 yo", "hair_color": "black hair"}
    assert verdict("person", answer).problems == ("blurry", "sunglasses")  # no class to compare
    others = [verdict("person", {"name": "woman", "age": "30 yo", "hair_color": "red hair"})] * 2
    assert characteristics([seen, *others, None]) == {"age": "30 yo", "hair_color": "red hair"}
    assert mismatched("man", [seen, None, verdict("man", {"name": "man"})]) == [0]


def test_the_sandbox_tells_a_blurry_photo_from_a_sharp_one(live):
    astria = live.rt.services.training.astria
    sharp = astria.inspect_image("man", Photo("a.jpg", f.jpeg(900, 900)), timeout=5)
    soft = astria.inspect_image("man", Photo("b.jpg", blurred()), timeout=5)
    assert sharp["blurry"] is False and soft["blurry"] is True and sharp["name"] == "man"


def test_the_mini_app_is_told_which_photo_to_replace_before_paying(live):
    photos = good_photos()
    photos[1] = blurred()
    unnamed = upload(live, photos, name="  ")  # what the user can fix at once comes first
    assert unnamed.json()["error"]["reason"] == "name_empty"
    refused = upload(live, photos)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["reason"] == "photo_problems"
    assert error["params"] == {"photos": [{"photo": 2, "problems": ["blurry"]}]}
    assert live.rt.store.list_models(USER) == []
    assert call(live, "GET", "/api/bot/me").json()["credits"] == 3  # nothing charged
    assert upload(live, good_photos()).status_code == 201


@pytest.mark.parametrize(("status", "body"), [(500, None), (200, "[1, 2]"), (200, '"odd"')])
def test_a_check_that_fails_never_blocks_training(live, status, body):
    live.sandbox_fault(
        kind="http", method="POST", path="/images/inspect", status=status, body=body, times=20
    )
    photos = good_photos()
    photos[0] = blurred()
    assert upload(live, photos).status_code == 201  # not inspected: trained as before


def test_what_a_check_saw_is_not_kept_after_delete_or_past_a_day(live, telegram):
    live.sandbox_fault(kind="delay", method="POST", path="/images/inspect", body="0.5")
    live.post_update(f.message(USER, "/train"))
    telegram.add_file("late-0", f.jpeg(900, 900))
    live.post_update(f.photo(USER, "late-0", 900, 900))
    live.post_update(f.message(USER, "/delete"))
    live.post_update(f.callback(USER, "del:yes"))
    live.idle()  # the check ends after the data went: nothing of it is written
    assert live.rt.store.get_user(USER) is None
    assert live.rt.store.get_mark(VERDICT, f"late-0:{USER}") is None

    live.rt.services.accounts.register(USER)  # back, with no second signup bonus: buys some
    live.rt.store.grant(USER, 5, "test", "bought")
    live.post_update(f.message(USER, "/train"))
    telegram.add_file("left-0", f.jpeg(901, 901))
    live.post_update(f.photo(USER, "left-0", 901, 901))
    live.idle()  # the flow is left here: the verdict waits for a charge that never comes
    key = f"left-0:{USER}"
    assert live.rt.store.get_mark(VERDICT, key) is not None
    live.rt.services.resume()
    assert live.rt.store.get_mark(VERDICT, key) is not None  # a day is not over
    with live.rt.store._write() as db:
        db.execute("UPDATE marks SET created_at = '2026-01-01' WHERE key = ?", (key,))
    live.rt.services.resume()
    assert live.rt.store.get_mark(VERDICT, key) is None


def test_the_chat_flags_a_photo_as_it_arrives_and_asks_for_another_before_paying(live, telegram):
    live.post_update(f.message(USER, "/train"))
    for n in range(4):
        content = blurred(900 + n, 900) if n == 2 else f.jpeg(900 + n, 900)
        telegram.add_file(f"chk-{n}", content)
        live.post_update(f.photo(USER, f"chk-{n}", 900 + n, 900))
    telegram.wait_text(USER, "⚠️ Photo 3: blurry. It would train badly")
    live.idle()
    live.post_update(f.message(USER, "Checked"))
    live.post_update(f.callback(USER, "cls:man"))
    said = telegram.calls_to("sendMessage", USER)[-1].text
    assert said.startswith("Nothing was charged: a check found photos that would train badly:")
    assert "• Photo 3: blurry" in said and said.endswith("Send 1 new photo to replace them.")
    assert live.rt.store.get_user(USER).credits == 3 and live.rt.store.list_models(USER) == []

    telegram.add_file("chk-new", f.jpeg(950, 950))
    live.post_update(f.photo(USER, "chk-new", 950, 950))
    assert telegram.texts(USER)[-1].startswith("Who is in the photos?")  # the name is kept
    live.idle()
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "Uploading your photos to start training “Checked”")
    (model,) = live.rt.store.list_models(USER)
    assert "chk-2" not in model.photo_file_ids and "chk-new" in model.photo_file_ids


def test_photo_checks_have_their_own_bounded_pool_and_never_hold_paid_work():
    jobs = Jobs(workers=1, optional_workers=1, optional_queue=2)
    release = threading.Event()
    try:
        checks = [jobs.submit_optional(f"check {n}", release.wait, 10) for n in range(3)]
        assert checks[0] is not None and checks[1] is not None
        assert checks[2] is None  # the queue is full: this check is dropped, never waited for
        paid = jobs.submit("upload", lambda: None)
        paid.result(timeout=2)  # runs at once though every check is stuck
        release.set()
        checks[1].result(timeout=2)
        assert jobs.submit_optional("check again", lambda: None) is not None
        assert jobs.wait_idle(timeout=5)
    finally:
        release.set()
        jobs.shutdown()


def test_a_check_that_ends_after_delete_and_return_is_dropped(live, telegram, monkeypatch):
    release = threading.Event()
    inspector = live.rt.services.checks.inspector

    def slow(class_name, photos):
        release.wait(10)
        return [Verdict(("blurry",), "man", {"age": "30 yo"}) for _ in photos]

    monkeypatch.setattr(inspector, "inspect", slow)
    live.post_update(f.message(USER, "/train"))
    telegram.add_file("old-0", f.jpeg(900, 900))
    live.post_update(f.photo(USER, "old-0", 900, 900))
    live.post_update(f.message(USER, "/delete"))
    live.post_update(f.callback(USER, "del:yes"))
    time.sleep(0.01)  # accounts are told apart by when they were made (to the millisecond)
    live.post_update(f.message(USER, "/start"))  # back at once, a new account with the same id
    release.set()
    live.idle()
    assert live.rt.store.get_mark(VERDICT, f"old-0:{USER}") is None
    assert not any("⚠️" in text for text in telegram.texts(USER))


def test_a_class_tap_that_fails_keeps_the_checks_for_the_next(live, telegram, monkeypatch):
    inspector = live.rt.services.checks.inspector
    seen = Verdict((), "man", {"age": "30 yo", "hair_color": "brown hair"})
    monkeypatch.setattr(inspector, "inspect", lambda class_name, photos: [seen for _ in photos])
    live.post_update(f.message(USER, "/train"))
    for n in range(4):
        telegram.add_file(f"kept-{n}", f.jpeg(900 + n, 900))
        live.post_update(f.photo(USER, f"kept-{n}", 900 + n, 900))
    live.idle()
    live.post_update(f.message(USER, "Kept"))
    live.post_update(f.callback(USER, "cls:xyz"))  # a stale or forged button: nothing charged
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "Uploading your photos to start training “Kept”")
    (model,) = live.rt.store.list_models(USER)
    assert model.characteristics == {"age": "30 yo", "hair_color": "brown hair"}
    live.idle()
    assert all(live.rt.store.get_mark(VERDICT, f"kept-{n}:{USER}") is None for n in range(4))
