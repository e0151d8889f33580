"""Likes: 👍 in the chat and the heart's API, kept once per picture in our store (both stores),
passed on to Astria's likes API, and reordering the styles and photoshoots per language."""

from __future__ import annotations

from tests import factories as f
from tests.support import call, eventually, init_data, sandbox_likes, trained_model

USER = 9400


def a_generation(live, telegram, user: int, style: str | None = None):
    model = trained_model(live, telegram, user, "Me", "man")
    generation, _, _ = live.rt.services.generations.start(
        user, model_id=model.id, prompt="on the moon" if style is None else None, style=style
    )
    eventually(lambda: live.rt.store.get_generation(generation.id).status == "done", timeout=20)
    live.idle()
    return live.rt.store.get_generation(generation.id)


def test_a_like_is_kept_once_reaches_astria_and_can_be_taken_back(make_live, telegram, store_env):
    live = make_live(**store_env)
    generation = a_generation(live, telegram, 6001)
    body = {"generation_id": generation.id, "image": 2, "liked": True}
    assert call(live, "POST", "/api/bot/likes", body).json() == {"liked": True}
    assert call(live, "POST", "/api/bot/likes", body).status_code == 200  # once, however often
    live.idle()
    assert live.rt.store.liked_images(6001, [generation.id]) == {(generation.id, 2)}
    assert sandbox_likes(live) == [int(generation.prompt_id)]  # passed on once
    page = call(live, "GET", f"/api/bot/models/{generation.model_id}/prompts").json()
    assert page["generations"][0]["liked"] == [2]

    # another user's picture, a picture that is not there, a bad body: refused, nothing kept
    other = {"generation_id": generation.id, "image": 0, "liked": True}
    assert call(live, "POST", "/api/bot/likes", other, user_id=6002).status_code == 404
    beyond = {"generation_id": generation.id, "image": 4, "liked": True}
    assert call(live, "POST", "/api/bot/likes", beyond).status_code == 404
    assert call(live, "POST", "/api/bot/likes", {"generation_id": "1"}).status_code == 422
    assert live.rt.store.liked_images(6002, [generation.id]) == set()

    undo = {**body, "liked": False}
    assert call(live, "POST", "/api/bot/likes", undo).json() == {"liked": False}
    assert live.rt.store.liked_images(6001, [generation.id]) == set()


def test_thumbs_up_in_the_chat_likes_one_picture_and_a_second_tap_takes_it_back(live, telegram):
    generation = a_generation(live, telegram, USER)
    telegram.wait_text(USER, "Want more pictures with “Me”?")
    more = telegram.calls_to("sendMessage", USER)[-1]
    thumbs = [b for b in more.buttons() if b["callback_data"].startswith("lk:")]
    assert [b["text"] for b in thumbs] == ["👍 1", "👍 2", "👍 3", "👍 4"]
    live.post_update(f.callback(USER, thumbs[1]["callback_data"]))
    toast = telegram.calls_to("answerCallbackQuery")[-1].params.get("text")
    assert toast == "👍 Liked 2: more like it will come first."
    assert live.rt.store.liked_images(USER, [generation.id]) == {(generation.id, 1)}
    live.post_update(f.callback(USER, thumbs[1]["callback_data"]))
    assert telegram.calls_to("answerCallbackQuery")[-1].params.get("text") == "Like 2 taken back."
    assert live.rt.store.liked_images(USER, [generation.id]) == set()
    live.post_update(f.callback(USER, f"lk:{generation.id}:9"))  # no such picture
    toast = telegram.calls_to("answerCallbackQuery")[-1].params.get("text")
    assert toast == "That picture is no longer here."


def test_the_styles_are_listed_most_liked_first_among_users_of_the_same_language(live, telegram):
    before = [s["id"] for s in call(live, "GET", "/api/bot/styles").json()["styles"]]
    last = before[-1]
    generation = a_generation(live, telegram, 6001, style=last)
    call(live, "POST", "/api/bot/likes", {"generation_id": generation.id, "image": 0,
                                          "liked": True})  # fmt: skip
    after = [s["id"] for s in call(live, "GET", "/api/bot/styles").json()["styles"]]
    assert after == [last, *before[:-1]]  # the liked one first, the rest as they were
    russian = call(live, "GET", "/api/bot/styles", auth=f"tma {init_data(6003, language='ru')}")
    assert [s["id"] for s in russian.json()["styles"]] == before  # another language: unchanged


def test_a_liked_photoshoot_picture_lifts_its_photoshoot_and_reaches_astria(live, telegram):
    model = trained_model(live, telegram, 6001, "Me", "man")
    before = [p["id"] for p in call(live, "GET", "/api/bot/photoshoots").json()["photoshoots"]]
    assert before == [260, 1187, 1520]  # the catalogue's order while nothing is liked
    live.rt.store.grant(6001, 40, "test", "photoshoot")
    shoot, _, _ = live.rt.services.shoots.start(6001, photoshoot=1520, model_id=model.id, lang="en")
    eventually(lambda: live.rt.store.get_shoot(shoot.id).status == "done", timeout=20)
    live.idle()
    picture = live.rt.store.shoot_prompts(shoot.id)[0]
    telegram.wait_for(
        lambda calls: any(c.params.get("reply_markup") and f"lk:{picture.id}:0" in
                          c.params["reply_markup"] for c in calls if c.method == "sendPhoto"),
        what="a photoshoot picture with its 👍",
    )  # fmt: skip
    liked = {"generation_id": picture.id, "image": 0, "liked": True}
    assert call(live, "POST", "/api/bot/likes", liked).status_code == 200
    live.idle()
    after = [p["id"] for p in call(live, "GET", "/api/bot/photoshoots").json()["photoshoots"]]
    assert after == [1520, 260, 1187]
    assert sandbox_likes(live) == [int(picture.prompt_id)]  # Astria counts it for the pack
