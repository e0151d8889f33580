"""Photo checks: real decoding, size and pixel limits, EXIF orientation, the same picture twice."""

from __future__ import annotations

import io
import os
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests import factories as f
from tests.support import upload
from webapp.astria import Photo
from webapp.records import InvalidInput
from webapp.services import photos

USER = 9600


def test_a_pixel_bomb_is_refused_before_it_is_decoded():
    out = io.BytesIO()
    Image.new("1", (9000, 6000)).save(out, "PNG")  # 54 MP in a small file
    with pytest.raises(InvalidInput) as caught:
        photos.inspect(out.getvalue())
    assert caught.value.params["reason"] == "too_big"


def test_exif_orientation_is_applied_and_metadata_dropped_before_upload():
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    exif[0x8825] = {2: (55.0, 45.0, 0.0)}  # a GPS position
    raw = f.jpeg(1200, 900, exif=exif.tobytes())
    ready = photos.for_upload(Photo("me.jpg", raw))
    with Image.open(io.BytesIO(ready.content)) as image:
        assert image.size == (900, 1200)  # upright
        assert not image.getexif()  # no orientation, no GPS
    big = photos.for_upload(Photo("big.png", f.png(4000, 3000), "image/png"))
    assert Image.open(io.BytesIO(big.content)).size == (2048, 1536)
    assert big.mime_type == "image/jpeg" and big.filename == "big.jpg"


def resized(content: bytes, side: int) -> bytes:
    """The same picture, smaller and re-saved (as Telegram's previews are)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(content)).resize((side, side)).save(out, "JPEG", quality=70)
    return out.getvalue()


def test_the_same_picture_is_recognised_even_re_saved():
    a, b = f.jpeg(800, 800), f.jpeg(800, 800)
    prints = [photos.fingerprint(x) for x in (a, b, resized(a, 640), resized(a, 90))]
    assert photos.same_picture(prints[:2]) is None
    assert photos.same_picture(prints[:3]) == (1, 3)
    assert photos.same_picture([prints[1], prints[3]]) is None
    assert photos.same_picture([prints[0], prints[3]]) == (1, 2)  # even from a tiny preview


def test_the_chat_refuses_the_same_picture_when_it_arrives_before_any_charge(live, telegram):
    same = f.jpeg(900, 900)
    live.post_update(f.message(USER, "/train"))
    for n, content in enumerate([same, f.jpeg(), f.jpeg(), same]):
        telegram.add_file(f"d{n}", content)  # with Telegram's smallest size of it
        live.post_update(f.photo(USER, f"d{n}", 900, 900))
    assert telegram.texts(USER)[-1] == "I already have this photo. Please send a different one."
    assert telegram.texts(USER)[-2] == "Photo 3 of 4 received. 1 to go."
    assert live.rt.store.get_user(USER).credits == 3 and not live.rt.store.list_models(USER)


def test_the_chat_refunds_when_a_repeated_picture_could_not_be_checked_in_time(live, telegram):
    same = f.jpeg(900, 900)
    live.post_update(f.message(USER, "/train"))
    for n, content in enumerate([same, f.jpeg(), f.jpeg(), same]):
        telegram.add_file(f"d{n}", content, preview=False)  # Telegram did not give them
        live.post_update(f.photo(USER, f"d{n}", 900, 900))
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    message = telegram.wait_text(USER, "I couldn't train “Me”")
    assert "two of the photos are the same picture" in message.text
    assert live.rt.store.get_user(USER).credits == 3


def test_the_mini_app_refuses_the_same_picture_before_charging(live):
    same = f.jpeg(900, 900)
    response = upload(live, [same, f.jpeg(), f.jpeg(), same], user_id=USER + 1)
    assert response.status_code == 422
    assert response.json()["error"]["reason"] == "duplicate_photos"
    assert response.json()["error"]["message"] == "Photos 1 and 4 are the same picture."
    assert response.json()["error"]["params"] == {"pair": [1, 4]}  # for the Mini App's words


def test_astria_gets_upright_jpegs_of_at_most_2048_px(live, telegram):
    exif = Image.Exif()
    exif[0x0112] = 6
    files = [f.jpeg(1200, 900, exif=exif.tobytes()), f.jpeg(3000, 3000), f.jpeg(), f.jpeg()]
    live.post_update(f.message(USER, "/train"))
    for n, content in enumerate(files):
        telegram.add_file(f"o{n}", content)
        live.post_update(f.document(USER, f"o{n}", "image/jpeg", len(content), f"{n}.jpg"))
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "Training of “Me” has started")
    db = sqlite3.connect(f"{live.rt.settings.instance_path}/astria-sandbox.sqlite3")
    (sizes,) = db.execute("SELECT sizes FROM tunes").fetchone()
    db.close()
    assert sizes == "[[900, 1200], [2048, 2048], [768, 768], [768, 768]]"


def test_no_photo_bytes_are_stored(live, telegram):
    uploaded = [f.jpeg() for _ in range(4)]
    assert upload(live, uploaded, user_id=USER + 2).status_code == 201
    live.post_update(f.message(USER, "/train"))
    for n in range(4):
        telegram.add_file(f"s{n}", f.jpeg())
        live.post_update(f.photo(USER, f"s{n}"))
    live.post_update(f.message(USER, "Me"))
    live.post_update(f.callback(USER, "cls:man"))
    telegram.wait_text(USER, "Training of “Me” has started")
    telegram.wait_text(USER + 2, "Training of “Me” has started")
    live.idle()
    database = live.rt.settings.database_url.removeprefix("sqlite:///")
    stored = b"".join(
        Path(path).read_bytes() for path in (database, database + "-wal") if os.path.exists(path)
    )
    assert b"\xff\xd8\xff" not in stored  # no JPEG anywhere in the database
    assert live.rt.store.list_models(USER)[0].photo_file_ids == ("s0", "s1", "s2", "s3")
    assert live.rt.store.list_models(USER + 2)[0].photo_file_ids == ()
