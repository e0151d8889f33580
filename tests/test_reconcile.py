"""Reconcile: callbacks that never came (Astria does not retry them) are settled by asking Astria,
with the same records and the same single notification; what Astria lost is refunded."""

from __future__ import annotations

from datetime import timedelta

import requests

import webapp.services.work
from tests import factories as f
from tests.support import sandbox_prompts, start_training, sweeps_after

USER = 9700


def train(live, telegram, name="Me"):
    start_training(live, telegram, USER, name)
    telegram.wait_text(USER, f"Training of “{name}” has started")
    live.idle()


def reconcile(live, minutes=0) -> str:
    result = live.app.test_cli_runner().invoke(args=["reconcile", "--older-than", str(minutes)])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def test_a_lost_tune_callback_is_settled_once(make_live, telegram):
    live = make_live(SANDBOX_TRAIN_SECONDS="0.3")
    live.sandbox_fault(kind="drop_callback", target="tune")
    train(live, telegram)
    live.wait_faults_used()  # the sandbox finished, but its callback was dropped
    (model,) = live.rt.store.list_models(USER)
    assert model.status == "training"
    assert reconcile(live, minutes=60) == "models: none; generations: none"  # not old enough
    assert reconcile(live) == "models: {'ready': 1}; generations: none"
    telegram.wait_text(USER, "Your model “Me” is ready!")
    assert reconcile(live) == "models: none; generations: none"
    # a late callback after reconcile changes nothing and notifies nobody again
    assert len([t for t in telegram.texts(USER) if "is ready" in t]) == 1


def test_a_lost_prompt_callback_is_settled_and_the_album_sent_once(make_live, telegram):
    live = make_live(SANDBOX_TRAIN_SECONDS="0.2", SANDBOX_PROMPT_SECONDS="0.2")
    train(live, telegram)
    (model,) = live.rt.store.list_models(USER)
    telegram.wait_text(USER, "is ready")
    live.sandbox_fault(kind="drop_callback", target="prompt")
    live.post_update(f.callback(USER, f"gen:{model.id}"))
    live.post_update(f.message(USER, "a knight"))
    live.idle()
    live.wait_faults_used()
    assert live.rt.store.list_generations(USER)[0].status == "processing"
    assert reconcile(live) == "models: none; generations: {'done': 1}"
    telegram.wait_text(USER, "Want more pictures")
    assert reconcile(live) == "models: none; generations: none"
    assert len(telegram.calls_to("sendMediaGroup", USER)) == 1


def test_a_tune_astria_lost_is_failed_and_refunded(make_live, telegram):
    live = make_live(SANDBOX_TRAIN_SECONDS="30")
    train(live, telegram)
    (model,) = live.rt.store.list_models(USER)
    requests.delete(
        f"{live.url}/astria-sandbox/tunes/{model.tune_id}",
        headers={"Authorization": f"Bearer {live.rt.settings.sandbox_key}"},
        timeout=5,
    )
    live.rt.services.reconciler.run(timedelta(minutes=-60))  # its ETA is still ahead
    telegram.wait_text(USER, "I couldn't train “Me”")
    assert live.rt.store.get_user(USER).credits == 3
    assert [e.reason for e in live.rt.store.ledger(USER)] == ["signup", "train", "train_refund"]


def test_a_failed_generation_found_by_reconcile_is_refunded(make_live, telegram):
    live = make_live(SANDBOX_TRAIN_SECONDS="0.2", SANDBOX_PROMPT_SECONDS="0.2")
    train(live, telegram)
    telegram.wait_text(USER, "is ready")
    (model,) = live.rt.store.list_models(USER)
    live.sandbox_fault(kind="drop_callback", target="prompt")
    live.sandbox_fault(kind="fail", target="prompt", body="NSFW content")
    live.post_update(f.callback(USER, f"gen:{model.id}"))
    live.post_update(f.message(USER, "a knight"))
    live.idle()
    live.wait_faults_used()
    assert reconcile(live) == "models: none; generations: {'failed': 1}"
    telegram.wait_text(USER, "I couldn't create the images: the AI service refused it (NSFW")
    assert live.rt.store.get_user(USER).credits == 2


def test_a_prompt_whose_answer_was_lost_is_never_sent_twice(make_live, telegram, monkeypatch):
    # Astria takes longer than our read timeout to answer the prompt (it makes it all the same)
    # and its callback is lost: the sweep must not send a second, paid, prompt
    live = make_live(ASTRIA_TIMEOUT="1", SWEEP_SECONDS="0.3", UPLOAD_LEASE_SECONDS="1")
    monkeypatch.setattr(webapp.services.work, "OUTCOME_WAIT", 1)  # a tune would be sent again
    train(live, telegram)
    telegram.wait_text(USER, "is ready")
    (model,) = live.rt.store.list_models(USER)
    live.sandbox_fault(kind="delay", method="POST", path=r"/tunes/\d+/prompts", body="1.5")
    live.sandbox_fault(kind="drop_callback", target="prompt")
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    live.wait_faults_used()
    sweeps_after(live, 2.5)  # past the lease (1 s) and the outcome wait (1 s) and a prompt's 1.5
    assert len(sandbox_prompts(live)) == 1
    (generation,) = live.rt.store.list_generations(USER)
    assert generation.status == "processing" and generation.prompt_id is None
    live.rt.services.reconciler.run(timedelta(minutes=-60))  # the test's retry window is 0
    telegram.wait_text(USER, "I couldn't create the images")
    assert live.rt.store.get_user(USER).credits == 2  # the generation's credit is back
    assert len(sandbox_prompts(live)) == 1


def test_reconcile_sends_what_telegram_held_back_before_it_exits(make_live, telegram):
    """A notice reconcile sends and Telegram answers with a 429 goes out before the command
    exits: without Redis no other process knows of it (found by an outside attack)."""
    live = make_live(SANDBOX_TRAIN_SECONDS="0.3")
    live.sandbox_fault(kind="drop_callback", target="tune")
    train(live, telegram)
    live.wait_faults_used()
    telegram.fail("sendMessage", 429, retry_after=2, chat_id=USER)
    assert reconcile(live) == "models: {'ready': 1}; generations: none"
    assert any("is ready" in text for text in telegram.texts(USER))  # already sent
