"""The whole chat journey, driven over HTTP like Telegram would; shared by the Flask-server and
the gunicorn tests (and, later, by every store)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from tests import factories as f
from tests.fake_telegram import FakeTelegram


def run_journey(
    post: Callable[[dict], object],
    telegram: FakeTelegram,
    user_id: int,
    sandbox_db: str | None = None,
    token: str | None = None,
) -> dict:
    """/start → /credits → /train → 4 photos → name → class → ready → /generate → prompt → album.

    Returns what a caller may check further (model and generation ids, the album call)."""
    for n in range(4):
        telegram.add_file(f"p{user_id}-{n}", f.jpeg(800 + n, 900, (n * 40, 100, 150)))

    post(f.message(user_id, "/start"))
    telegram.wait_text(user_id, "You have 3 credits")
    post(f.message(user_id, "/credits"))
    credits = telegram.wait_text(user_id, "Training a model: 1 credit.")
    assert credits.text.startswith("You have 3 credits.")

    post(f.message(user_id, "/train"))
    telegram.wait_text(user_id, "Send me 4 photos")
    for n in range(4):
        post(f.photo(user_id, f"p{user_id}-{n}", width=800 + n, height=900))
    for n in range(1, 4):
        telegram.wait_text(user_id, f"Photo {n} of 4 received. {4 - n} to go.")
    telegram.wait_text(user_id, "All 4 photos received")

    post(f.message(user_id, "Me at the beach"))
    ask = telegram.wait_text(user_id, "Who is in the photos?")
    assert "cls:man" in [b["callback_data"] for b in ask.buttons()]

    post(f.callback(user_id, "cls:man", message_id=77))
    telegram.wait_text(user_id, "Model “Me at the beach” — man.")
    telegram.wait_text(user_id, "1 credit spent; 2 credits left")
    telegram.wait_text(user_id, "Training of “Me at the beach” has started")
    ready = telegram.wait_text(user_id, "Your model “Me at the beach” is ready!")
    button, more = ready.buttons()  # generate with it, or see the photoshoots
    assert more == {"text": "📸 Photoshoots", "callback_data": "psl"}
    model_id = int(button["callback_data"].removeprefix("gen:"))

    if sandbox_db:
        db = sqlite3.connect(sandbox_db)
        images, callback = db.execute(
            "SELECT images, callback FROM tunes ORDER BY id DESC LIMIT 1"
        ).fetchone()
        assert images == 4, "the tune must carry exactly the 4 photos"
        assert f"/api/astria/callback/tune/{model_id}?token=" in callback
        if token:
            dump = "\n".join(db.iterdump())
            assert token not in dump, "the bot token reached Astria"

    post(f.message(user_id, "/generate"))
    choose = telegram.wait_text(user_id, "Which model should I use?")
    assert [b["callback_data"] for b in choose.buttons()] == [f"gen:{model_id}", "psl"]
    post(f.callback(user_id, f"gen:{model_id}"))
    styles = telegram.wait_text(user_id, "Pick a style for “Me at the beach” (1 credit each)")
    data = [b["callback_data"] for b in styles.buttons()]
    assert f"sty:{model_id}:headshot" in data and data[-1] == f"own:{model_id}"
    post(f.message(user_id, "astronaut on the moon, film photo"))  # or just type one
    telegram.wait_text(
        user_id, "Creating 4 images with “Me at the beach”… 1 credit spent; 1 credit left"
    )

    album = telegram.wait_for(
        lambda calls: [c for c in calls if c.method == "sendMediaGroup" and c.chat_id == user_id],
        what="the album",
    )[0]
    more = telegram.wait_text(user_id, "Want more pictures with “Me at the beach”?")
    kinds = [b["callback_data"].split(":")[0] for b in more.buttons() if "callback_data" in b]
    # 👍 for each picture, more of the same, another style, the same in HD
    assert kinds == ["lk"] * 4 + ["more", "sts", "mhd"]

    if sandbox_db:
        text, tune_id = (
            sqlite3.connect(sandbox_db)
            .execute("SELECT text, tune_id FROM prompts ORDER BY id DESC LIMIT 1")
            .fetchone()
        )
        assert tune_id == 1504944, "Flux LoRA prompts go to the base tune"
        assert re.fullmatch(r"<lora:\d+:1> ohwx man, astronaut on the moon, film photo", text)

    post(f.message(user_id, "/credits"))
    telegram.wait_text(user_id, "You have 1 credit.\nTraining")
    return {"model_id": model_id, "album": album}
