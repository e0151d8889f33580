"""The style catalogue, generating in a style with one tap (chat and API), 🔁 More, HD, and the
two model types (a trained LoRA and an instant FaceID)."""

from __future__ import annotations

import json
import re

import pytest

from tests import factories as f
from tests.support import (
    call,
    good_photos,
    sandbox_prompts,
    trained_model,
    upload,
)
from webapp.services.styles import CATALOGUE, CatalogueError, Styles
from webapp.texts import LANGUAGES

USER = 6001


def test_the_catalogue_is_complete_in_every_language():
    styles = Styles.load(1)
    assert len(styles.all) >= 12
    for style in styles.all:
        for lang in LANGUAGES:
            assert style.words[lang]["name"] and style.words[lang]["description"]
        assert style.text("ohwx man").count("ohwx man") == 1
    names = {lang: {s.name(lang) for s in styles.all} for lang in LANGUAGES}
    assert all(len(n) == len(styles.all) for n in names.values()), "two styles share a name"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda t: t.replace('ru = { name = "Деловой портрет"', 'xx = { name = "X"'), "[ru]"),
        (lambda t: t.replace("headshot of {subject}", "headshot"), "{subject}"),
        (
            lambda t: t.replace(
                'aspect_ratio = "4:5", face_correct', 'aspect_ratio = "5:9", face_correct'
            ),
            "aspect_ratio",
        ),  # fmt: skip
        (lambda t: t.replace("price = 2", "price = -1"), "price"),
        (lambda t: t.replace('id = "cinematic"', 'id = "headshot"'), "same id"),
        (lambda t: t.replace("film_grain = true }", "grain = true }", 1), "unknown option"),
        (
            lambda t: t.replace("film_grain = true }", 'color_grading = "Film Noir" }', 1),
            "color_grading",
        ),
        (
            lambda t: t.replace("film_grain = true }", "super_resolution = true }", 1),
            "HD's option",
        ),
    ],
)
def test_a_broken_catalogue_is_refused_at_start_saying_what_is_wrong(tmp_path, change, says):
    broken = tmp_path / "styles.toml"
    broken.write_text(change(CATALOGUE.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CatalogueError, match=re.escape(says)):
        Styles.load(1, broken)


def ready(live, telegram, user=USER):
    """A model trained on the sandbox through the chat, and 20 more credits (22 in all)."""
    model = trained_model(live, telegram, user)
    live.rt.store.grant(user, 20, "test", f"styles-{user}")
    return model


def test_a_style_is_one_tap_in_the_chat_then_more_and_hd(live, telegram):
    model = ready(live, telegram)
    live.post_update(f.callback(USER, f"gen:{model.id}"))
    offer = telegram.calls_to("sendMessage", USER)[-1]
    data = [b["callback_data"] for b in offer.buttons()]
    assert data[:6] == [
        f"sty:{model.id}:{s.id}" for s in live.rt.services.generations.styles.all[:6]
    ]
    assert data[6:] == [f"stp:{model.id}:1", f"own:{model.id}"]
    live.post_update(f.callback(USER, f"stp:{model.id}:1"))  # the next page, in place
    page = telegram.calls_to("editMessageReplyMarkup", USER)[-1]
    labels = [b["text"] for b in page.buttons()]
    assert "Superhero · 2" in labels and "‹" in labels

    live.post_update(f.callback(USER, f"sty:{model.id}:cinematic"))
    telegram.wait_text(USER, "Creating 4 images with “Me”… 1 credit spent")
    more = telegram.wait_text(USER, "Want more pictures with “Me”?")
    (first,) = live.rt.store.list_generations(USER)
    assert first.style == "cinematic" and first.prompt == "" and not first.hd
    sent = sandbox_prompts(live)[-1]
    assert sent["text"].startswith(f"<lora:{model.tune_id}:1> cinematic film still of ohwx man,")
    assert json.loads(sent["options"]) == {"aspect_ratio": "16:9", "film_grain": "true"}
    album = telegram.calls_to("sendMediaGroup", USER)[-1]
    assert json.loads(album.params["media"])[0]["caption"] == "Here you are! “Cinematic”"

    buttons = {b["callback_data"].split(":")[0]: b for b in more.buttons() if "callback_data" in b}
    assert buttons["more"]["text"] == "🔁 More · 1 credit"  # each with what it costs
    assert buttons["mhd"]["text"] == "✨ More in HD · 2 credits"
    live.post_update(f.callback(USER, buttons["more"]["callback_data"]))
    telegram.wait_text(USER, "Creating 4 images with “Me”… 1 credit spent", after=0)
    live.post_update(f.callback(USER, buttons["mhd"]["callback_data"]))
    telegram.wait_text(USER, "Creating 4 images with “Me”… 2 credits spent")
    live.idle()
    newest, again, _ = live.rt.store.list_generations(USER)
    assert (again.style, again.hd, again.cost) == ("cinematic", False, 1)
    assert (newest.style, newest.hd, newest.cost) == ("cinematic", True, 2)
    hd = json.loads(sandbox_prompts(live)[-1]["options"])
    assert hd["super_resolution"] == hd["inpaint_faces"] == "true"
    assert live.rt.store.get_user(USER).credits == 22 - 1 - 1 - 2


def test_a_style_taken_out_by_a_deploy_is_explained_and_never_charged_for(live, telegram):
    model = ready(live, telegram)
    live.post_update(f.callback(USER, f"sty:{model.id}:cinematic"))
    more = telegram.wait_text(USER, "Want more pictures with “Me”?")
    live.idle()
    (first,) = live.rt.store.list_generations(USER)
    live.post_update(f.message(USER, "/train"))  # a /train flow is under way meanwhile
    telegram.add_file("kept-0", f.jpeg(800, 800))
    live.post_update(f.photo(USER, "kept-0", 800, 800))
    more_data = next(
        b["callback_data"] for b in more.buttons() if b.get("callback_data", "").startswith("more:")
    )
    mark = telegram.mark()
    live.post_update(f.callback(USER, more_data))  # More, while the /train flow is open
    telegram.wait_text(USER, "Creating 4 images with “Me”… 1 credit spent", after=mark)
    live.idle()
    generations = live.rt.services.generations
    generations.styles = Styles([s for s in generations.styles.all if s.id != "cinematic"])
    credits = live.rt.store.get_user(USER).credits

    live.post_update(f.callback(USER, more_data))
    gone = telegram.calls_to("sendMessage", USER)[-1]
    assert gone.text == "That style is no longer offered. Pick another one:"
    offered = [b["callback_data"] for b in gone.buttons()]
    assert offered[0] == f"sty:{model.id}:{generations.styles.all[0].id}"
    assert f"sty:{model.id}:cinematic" not in offered
    assert live.rt.store.get_user(USER).credits == credits
    for n in range(1, 4):  # the /train flow was not ended by either tap
        telegram.add_file(f"kept-{n}", f.jpeg(800 + n, 800))
        live.post_update(f.photo(USER, f"kept-{n}", 800 + n, 800))
    telegram.wait_text(USER, "All 4 photos received")  # paced behind the album: it may wait
    assert live.post_update(f.callback(USER, f"stp:{model.id}:²")).status_code == 200

    # queued before the deploy, sent after it: failed and refunded, never sent bare
    queued, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="", num_images=4, cost=2, style="cinematic", hd=False
    )
    generations.submit(queued.id)
    telegram.wait_text(USER, "I couldn't create the images: that style is no longer offered.")
    assert live.rt.store.get_generation(queued.id).status == "failed"
    assert live.rt.store.get_user(USER).credits == credits
    assert len(sandbox_prompts(live)) == 2
    assert first.style == "cinematic"


def test_a_failed_styled_hd_generation_refunds_exactly_what_it_cost(live, telegram):
    model = ready(live, telegram)
    live.sandbox_fault(kind="http", method="POST", path=r"/tunes/\d+/prompts", status=422, times=1)
    response = call(
        live, "POST", "/api/bot/generate", {"model_id": model.id, "style": "superhero", "hd": True}
    )
    assert response.status_code == 201 and response.json()["credits"] == 22 - 3
    telegram.wait_text(USER, "I couldn't create the images")
    live.idle()
    assert live.rt.store.get_user(USER).credits == 22
    assert live.rt.store.ledger(USER)[-1].delta == 3


def test_the_api_lists_styles_in_the_users_language_and_checks_what_it_is_sent(live, telegram):
    model = ready(live, telegram)
    listed = call(live, "GET", "/api/bot/styles")
    assert listed.status_code == 200
    first = listed.json()["styles"][0]
    assert set(first) == {"id", "name", "description", "price"}
    for body, reason in (
        ({"model_id": model.id, "style": "nope"}, "unknown_style"),
        ({"model_id": model.id, "style": 5}, "unknown_style"),
        ({"model_id": model.id, "style": "noir", "hd": "yes"}, None),
        ({"model_id": model.id}, None),
    ):
        response = call(live, "POST", "/api/bot/generate", body)
        assert response.status_code == 422, body
        assert response.json()["error"].get("reason") == reason
    both = call(
        live,
        "POST",
        "/api/bot/generate",
        {"model_id": model.id, "style": "noir", "prompt": "with a hat"},
    )
    assert both.status_code == 201
    body = both.json()["generation"]
    assert (body["style"], body["style_name"], body["hd"]) == ("noir", "Black & white", False)
    live.idle()
    assert sandbox_prompts(live)[-1]["text"].endswith("deep shadows, with a hat")
    blank = call(
        live, "POST", "/api/bot/generate", {"model_id": model.id, "style": "noir", "prompt": " \n "}
    )
    assert blank.status_code == 201  # blank words with a style: the style alone
    tagged = call(
        live,
        "POST",
        "/api/bot/generate",
        {"model_id": model.id, "style": "noir", "prompt": "<lora:5:1>"},
    )
    assert tagged.status_code == 201  # a tag is no words: the style alone too
    live.idle()
    assert sandbox_prompts(live)[-1]["text"].endswith("deep shadows")
    assert sandbox_prompts(live)[-2]["text"].endswith("deep shadows")
    assert live.rt.store.get_user(USER).credits == 19  # the refused ones cost nothing


def test_styles_come_in_russian_for_a_russian_user(live):
    from tests.support import init_data

    raw = init_data(6002, user=json.dumps({"id": 6002, "first_name": "Ира", "language_code": "ru"}))
    response = call(live, "GET", "/api/bot/styles", auth=f"tma {raw}")
    names = [s["name"] for s in response.json()["styles"]]
    assert "Деловой портрет" in names and "Business headshot" not in names


def test_the_chat_offers_styles_more_and_kinds_in_russian(live, telegram):
    model = ready(live, telegram, USER + 5)
    ru = {"language_code": "ru"}
    live.post_update(f.callback(USER + 5, f"gen:{model.id}", **ru))
    offer = telegram.calls_to("sendMessage", USER + 5)[-1]
    assert offer.text.startswith("Выберите стиль для «Me» (1 кредит за раз)")
    labels = [b["text"] for b in offer.buttons()]
    assert "Деловой портрет" in labels and "✍️ Опишу сам" in labels
    live.post_update(f.callback(USER + 5, f"sty:{model.id}:cinematic", **ru))
    more = telegram.wait_text(USER + 5, "Ещё изображения с «Me»?")
    labels = [b["text"] for b in more.buttons()]
    assert {"🔁 Ещё · 1 кредит", "🎨 Другой стиль", "✨ Ещё в HD · 2 кредита"} <= set(labels)
    live.idle()
    live.post_update(f.message(USER + 5, "/train", **ru))
    intro = telegram.calls_to("sendMessage", USER + 5)[-1]
    assert "⚡ Мгновенная: готова примерно за минуту" in intro.text
    assert [b["text"] for b in intro.buttons()] == [
        "✓ 🎯 Максимальное сходство · 1 кредит",
        "⚡ Мгновенная · 1 кредит",
    ]


def test_a_faceid_model_is_ready_at_once_priced_apart_and_prompted_with_its_tag(
    make_live, telegram
):
    live = make_live(FACEID_COST="2", SANDBOX_TRAIN_SECONDS="600")  # a LoRA would take 10 min
    live.rt.services.accounts.register(USER)
    live.rt.store.grant(USER, 5, "test", "faceid")
    response = upload(live, good_photos(), name="Quick", model_type="faceid")
    assert response.status_code == 201, response.text
    assert response.json()["credits"] == 8 - 2
    assert response.json()["model"]["model_type"] == "faceid"
    telegram.wait_text(USER, "Your model “Quick” is ready!", timeout=10)
    (model,) = live.rt.store.list_models(USER)
    assert model.status == "ready" and model.cost == 2
    generated = call(live, "POST", "/api/bot/generate", {"model_id": model.id, "style": "anime"})
    assert generated.status_code == 201
    live.idle()
    text = sandbox_prompts(live)[-1]["text"]
    assert text.startswith(f"<faceid:{model.tune_id}:1> anime illustration of man,")
    refused = upload(live, good_photos(), name="X", model_type="checkpoint")
    assert refused.status_code == 422
    assert refused.json()["error"]["reason"] == "model_type_unknown"


def test_a_faceid_astria_refuses_at_creation_is_failed_and_refunded_not_started(
    make_live, telegram
):
    live = make_live(FACEID_COST="2")
    live.rt.services.accounts.register(USER)
    live.rt.store.grant(USER, 5, "test", "faceid")
    live.sandbox_fault(kind="fail", target="tune", body="no face found")
    assert upload(live, good_photos(), name="Quick", model_type="faceid").status_code == 201
    telegram.wait_text(USER, "I couldn't train “Quick”: the AI service refused it (no face found).")
    live.idle()
    (model,) = live.rt.store.list_models(USER)
    assert model.status == "failed"
    assert live.rt.store.get_user(USER).credits == 8  # the 2 it cost came back
    assert not any("started" in text or "ready" in text for text in telegram.texts(USER))


def test_a_model_made_before_model_types_is_of_the_deployments_type(make_live, telegram):
    live = make_live(ASTRIA_MODEL_TYPE="faceid")
    model = trained_model(live, telegram, USER)
    with live.rt.store._write() as db:  # what migration 0003 left on a row made before it
        db.execute(
            "UPDATE telegram_models SET model_type = 'lora', cost = NULL WHERE id = ?", (model.id,)
        )
    model = live.rt.store.get_model(model.id)
    assert model.model_type is None
    shown = call(live, "GET", f"/api/bot/models/{model.id}").json()
    assert shown["model"]["model_type"] == "faceid"
    generated = call(live, "POST", "/api/bot/generate", {"model_id": model.id, "prompt": "at sea"})
    assert generated.status_code == 201
    live.idle()
    assert sandbox_prompts(live)[-1]["text"].startswith(f"<faceid:{model.tune_id}:1> man,")


def test_the_chat_offers_both_kinds_of_model_with_their_prices(make_live, telegram):
    live = make_live(FACEID_COST="0", SANDBOX_TRAIN_SECONDS="600")
    live.post_update(f.message(USER, "/train"))
    intro = telegram.calls_to("sendMessage", USER)[-1]
    assert "🎯 Best likeness: trained on your photos, ready in 20–30 minutes." in intro.text
    assert [b["text"] for b in intro.buttons()] == [
        "✓ 🎯 Best likeness · 1 credit",
        "⚡ Instant · 0 credits",
    ]
    live.post_update(f.callback(USER, "typ:faceid"))
    ticked = telegram.calls_to("editMessageReplyMarkup", USER)[-1]
    assert [b["text"] for b in ticked.buttons()][1] == "✓ ⚡ Instant · 0 credits"
    for n in range(4):
        telegram.add_file(f"fast-{n}", f.jpeg(700 + n, 700))
        live.post_update(f.photo(USER, f"fast-{n}", 700 + n, 700))
    live.post_update(f.message(USER, "Fast me"))
    live.post_update(f.callback(USER, "cls:woman"))
    telegram.wait_text(USER, "Making your instant model “Fast me”. 0 credits spent")
    telegram.wait_text(USER, "Your model “Fast me” is ready!", timeout=10)
    (model,) = live.rt.store.list_models(USER)
    assert (model.model_type, model.cost) == ("faceid", 0)
    assert live.rt.store.get_user(USER).credits == 3
    live.post_update(f.callback(USER, "typ:lora"))  # a stale button: nothing to choose for now
    assert telegram.calls_to("answerCallbackQuery")[-1].params.get("text")


def test_a_checkpoint_deployment_offers_its_own_kind_alone(make_live, telegram):
    live = make_live(ASTRIA_MODEL_TYPE="checkpoint")  # a base of its own: no Flux LoRA or FaceID
    live.post_update(f.message(USER, "/train"))
    intro = telegram.calls_to("sendMessage", USER)[-1]
    assert "🎯 Trained on your photos, ready in 20–30 minutes." in intro.text
    assert "Instant" not in intro.text and intro.buttons() == []
    kinds = call(live, "GET", "/api/bot/me").json()["model_types"]
    assert [k["type"] for k in kinds] == ["checkpoint"]
    refused = upload(live, good_photos(), model_type="faceid")
    assert refused.json()["error"]["reason"] == "model_type_unknown"


def test_style_buttons_under_an_album_keep_an_open_train_flow(live, telegram):
    model = ready(live, telegram)
    live.post_update(f.message(USER, "/train"))
    for n in range(2):
        telegram.add_file(f"open-{n}", f.jpeg(800 + n, 800))
        live.post_update(f.photo(USER, f"open-{n}", 800 + n, 800))
    live.post_update(f.callback(USER, f"sts:{model.id}"))  # 🎨 Another style
    offered = telegram.calls_to("sendMessage", USER)[-1]
    assert f"sty:{model.id}:headshot" in [b["callback_data"] for b in offered.buttons()]
    live.post_update(f.callback(USER, f"own:{model.id}"))  # ✍️ would take the next text
    assert telegram.texts(USER)[-1].startswith("You are in the middle of /train")
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))  # a style works meanwhile
    telegram.wait_text(USER, "Creating 4 images with “Me”")
    for n in range(2, 4):
        telegram.add_file(f"open-{n}", f.jpeg(800 + n, 800))
        live.post_update(f.photo(USER, f"open-{n}", 800 + n, 800))
    telegram.wait_text(USER, "All 4 photos received")  # paced behind the album: it may wait
    live.idle()
