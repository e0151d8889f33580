"""Astria's callbacks: forged ones are refused, repeats change nothing and notify nobody twice."""

from __future__ import annotations

import pytest

from tests.support import make_model
from webapp.security import callback_token

USER = 9500


S3 = "https://sdbooth2-production.s3.amazonaws.com"  # where Astria's images are


def tune_body(tune_id: int, trained: bool = True, **extra) -> dict:
    """A tune callback body as Astria wraps it."""
    return {
        "tune": {
            "id": tune_id,
            "title": "t",
            "name": "man",
            "eta": "2030-01-01T00:00:00Z",
            "trained_at": "2026-11-26T10:00:00.000Z" if trained else None,
            "model_type": "lora",
            **extra,
        }
    }


def prompt_body(prompt_id: int, images: int = 4, **extra) -> dict:
    """A prompt callback body as Astria wraps it (Flux: tune_id is the base model)."""
    return {
        "prompt": {
            "id": prompt_id,
            "tune_id": 1504944,
            "text": "<lora:1:1> ohwx man, x",
            "images": [f"{S3}/p{prompt_id}n{n}" for n in range(images)],
            **extra,
        }
    }


@pytest.fixture
def model(live):
    """A model that Astria is training as tune 777."""
    store = live.rt.store
    live.rt.services.accounts.register(USER, first_name="Ann", language_code="en")
    created = make_model(store, USER, title="title-1", photo_file_ids=["a", "b", "c", "d"], cost=1)
    store.mark_model_submitted(created.id, 777, None)
    return created


def test_forged_tune_callbacks_are_refused(live, telegram, model):
    other = callback_token(live.rt.settings.secret_key, "tune", model.id + 1)
    prompt_kind = callback_token(live.rt.settings.secret_key, "prompt", model.id)
    for token in (None, "", "0" * 40, other, prompt_kind, "é" * 40):
        response = live.callback("tune", model.id, tune_body(777), token=token)
        assert response.status_code == 403, token
        assert response.json()["error"]["code"] == "forbidden"
    # a signed URL for a model that does not exist
    assert live.callback("tune", 4040, tune_body(777)).status_code == 403
    # a signed URL, but the body speaks of another tune
    assert live.callback("tune", model.id, tune_body(778)).status_code == 403
    assert live.rt.store.get_model(model.id).status == "training"
    assert telegram.calls == []


def test_a_tune_callback_twice_notifies_once(live, telegram, model):
    first = live.callback("tune", model.id, tune_body(777))
    assert first.status_code == 200 and first.json()["outcome"] == "ready"
    second = live.callback("tune", model.id, tune_body(777))
    assert second.status_code == 200 and second.json()["outcome"] == "repeat"
    assert len([t for t in telegram.texts(USER) if "is ready" in t]) == 1
    assert live.rt.store.get_model(model.id).status == "ready"


def test_an_unfinished_tune_changes_nothing_and_bad_bodies_are_400(live, telegram, model):
    response = live.callback("tune", model.id, tune_body(777, trained=False))
    assert response.json()["outcome"] == "not finished"
    for body in ({}, {"tune": "x"}, {"prompt": {"id": 1}}, [1]):
        response = live.callback("tune", model.id, body)
        assert response.status_code == 422
        assert response.json()["error"] == {
            "code": "invalid_input",
            "message": "Invalid input (reason: not a tune callback)",
            "reason": "not a tune callback",
        }
    assert live.rt.store.get_model(model.id).status == "training"
    assert telegram.calls == []


def test_a_failed_tune_refunds_exactly_once(live, telegram, model):
    for _ in range(3):
        live.callback(
            "tune", model.id, tune_body(777, trained=False, status="failed", error="low quality")
        )
    store = live.rt.store
    assert store.get_user(USER).credits == 3
    assert [e.reason for e in store.ledger(USER)] == ["signup", "train", "train_refund"]
    assert len([t for t in telegram.texts(USER) if "couldn't train" in t]) == 1


def test_a_prompt_callback_twice_sends_one_album(live, telegram, model):
    live.callback("tune", model.id, tune_body(777))
    generation, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="x", num_images=4, cost=1
    )
    forged = live.callback("prompt", generation.id, prompt_body(55), token="nope")
    assert forged.status_code == 403
    assert live.callback("prompt", generation.id, prompt_body(55)).json()["outcome"] == "done"
    assert live.callback("prompt", generation.id, prompt_body(55)).json()["outcome"] == "repeat"
    live.idle()
    assert len(telegram.calls_to("sendMediaGroup", USER)) == 1
    stored = live.rt.store.get_generation(generation.id)
    assert stored.status == "done" and stored.prompt_id == "55" and len(stored.images) == 4
    # a prompt that is not done yet (no images) changes nothing
    other, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="y", num_images=4, cost=1
    )
    assert live.callback("prompt", other.id, prompt_body(56, images=0)).json()["outcome"] == (
        "not finished"
    )
    assert live.rt.store.get_generation(other.id).status == "processing"


def test_a_callback_while_the_process_stops_gets_503_not_an_alert(live, telegram, model):
    live.callback("tune", model.id, tune_body(777))
    generation, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="x", num_images=4, cost=1
    )
    live.rt.jobs.shutdown()  # a deploy: the process takes no new background work
    response = live.callback("prompt", generation.id, prompt_body(57))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "shutting_down"
    # nothing changed: reconcile will ask Astria and deliver it from the next process
    assert live.rt.store.get_generation(generation.id).status == "processing"
