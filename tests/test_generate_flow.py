"""/generate and /models in the chat, and the album that comes back."""

from __future__ import annotations

import json

from tests import factories as f
from tests.support import start_training, trained_model

USER = 9100


def test_generate_without_models_says_what_to_do(live, telegram):
    live.post_update(f.message(USER, "/generate"))
    assert telegram.texts(USER)[-1] == "You have no models yet. Create one with /train."


def test_generate_while_training_says_it_is_still_training(make_live, telegram):
    live = make_live(SANDBOX_TRAIN_SECONDS="30")
    start_training(live, telegram, USER, "Slow")
    telegram.wait_text(USER, "Training of “Slow” has started. It takes about 1 min")
    live.post_update(f.message(USER, "/generate"))
    assert telegram.texts(USER)[-1].startswith("Your model is still training (about 1 min left)")
    live.post_update(f.message(USER, "/models"))
    models = telegram.calls_to("sendMessage", USER)[-1]
    assert models.text == "Your models:\n⏳ Slow (man) — training, about 1 min left"
    assert [b["callback_data"] for b in models.buttons()] == ["train"]


def test_models_lists_every_model_with_its_status(live, telegram):
    live.sandbox_fault(
        kind="http", method="POST", path="/tunes", status=422, body={"error": "no face"}
    )
    start_training(live, telegram, USER, "First")
    telegram.wait_text(USER, "I couldn't train “First”")
    model_id = trained_model(live, telegram, USER, "Second", "woman").id
    live.post_update(f.message(USER, "/models"))
    models = telegram.calls_to("sendMessage", USER)[-1]
    assert models.text == ("Your models:\n✅ Second (woman) — ready\n❌ First (man) — failed")
    assert [b["callback_data"] for b in models.buttons()] == [f"gen:{model_id}", "train"]


def test_bad_prompts_are_refused_and_cost_nothing(live, telegram):
    model_id = trained_model(live, telegram, USER, class_name="woman").id
    live.post_update(f.callback(USER, f"gen:{model_id}"))
    live.post_update(f.message(USER, "\u0000\u0007"))
    assert telegram.texts(USER)[-1] == "The description can't be empty."
    live.post_update(f.message(USER, "y" * 601))
    assert telegram.texts(USER)[-1] == "That description is too long: 600 characters at most."
    assert live.rt.store.get_user(USER).credits == 2


def test_astria_refusing_the_prompt_refunds_and_tells_the_user(live, telegram):
    model_id = trained_model(live, telegram, USER, class_name="woman").id
    live.sandbox_fault(
        kind="http",
        method="POST",
        path=r"/tunes/\d+/prompts",
        status=422,
        body={"error": "prompt flagged"},
    )
    live.post_update(f.callback(USER, f"gen:{model_id}"))
    live.post_update(f.message(USER, "a knight"))
    message = telegram.wait_text(USER, "I couldn't create the images")
    assert "refused it (prompt flagged)" in message.text
    assert "1 credit returned" in message.text
    store = live.rt.store
    assert store.get_user(USER).credits == 2
    assert [e.reason for e in store.ledger(USER)][-2:] == ["generate", "generate_refund"]
    assert store.list_generations(USER)[0].status == "failed"


def test_someone_elses_model_cannot_be_used(live, telegram):
    model_id = trained_model(live, telegram, USER, class_name="woman").id
    live.post_update(f.callback(USER + 1, f"gen:{model_id}"))
    assert telegram.texts(USER + 1)[-1] == "I can't find that model."
    live.post_update(f.message(USER + 1, "a knight"))
    assert telegram.texts(USER + 1)[-1].startswith("I'm not sure what you mean")
    assert live.rt.store.list_generations(USER + 1) == []


def test_refused_image_urls_are_uploaded_as_bytes(live, telegram):
    telegram.refuse_urls = True  # Telegram cannot fetch the sandbox's loopback URLs
    model_id = trained_model(live, telegram, USER, class_name="woman").id
    live.post_update(f.callback(USER, f"gen:{model_id}"))
    live.post_update(f.message(USER, "a knight"))
    telegram.wait_text(USER, "Want more pictures with “Me”?")
    first, second = telegram.calls_to("sendMediaGroup", USER)
    assert all(m["media"].startswith("http") for m in json.loads(first.params["media"]))
    uploaded = json.loads(second.params["media"])
    assert [m["media"].startswith("attach://") for m in uploaded] == [True] * 4
    assert all(content.startswith(b"\xff\xd8") for content in second.files.values())  # JPEGs
    assert uploaded[0]["caption"] == "Here you are! “a knight”"


def test_russian_speakers_get_russian(live, telegram):
    live.post_update(f.message(USER, "/start", language_code="ru"))
    assert telegram.texts(USER)[-1].startswith("Привет, Ann!")
    assert "У вас 3 кредита." in telegram.texts(USER)[-1]
    live.post_update(f.message(USER, "/generate", language_code="ru-RU"))
    assert telegram.texts(USER)[-1] == "У вас пока нет моделей. Создайте её командой /train."
    live.post_update(f.message(USER, "/help", language_code="zz"))  # one we will never speak
    assert telegram.texts(USER)[-1].startswith("What I can do:")


def test_help_lists_every_command(live, telegram):
    live.post_update(f.message(USER, "/help"))
    text = telegram.texts(USER)[-1]
    for command in ("/train", "/generate", "/models", "/credits", "/cancel", "/help"):
        assert command in text


def test_a_generation_lost_in_a_crash_is_sent_by_the_next_process(make_live, telegram):
    first = make_live()
    model_id = trained_model(first, telegram, USER, class_name="woman").id
    first.close()
    # the crash: charged and recorded, but the prompt never reached Astria
    generation, _ = first.rt.store.create_generation(
        USER, model_id=model_id, prompt="lost", num_images=4, cost=1
    )
    second = make_live()
    telegram.wait_text(USER, "Want more pictures with “Me”?")
    assert second.rt.store.get_generation(generation.id).status == "done"
    assert len(telegram.calls_to("sendMediaGroup", USER)) == 1
