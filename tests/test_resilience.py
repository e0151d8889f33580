"""Simulated users (60 here, 1,000 in the soak) through whole journeys with faults injected at
random (seeded): duplicated webhook deliveries and callbacks, dropped callbacks, Astria
500/504/422 and failed jobs, Telegram 429 and 403. Afterwards every balance equals its ledger,
nobody was charged twice or for nothing, nobody got a notification twice, and everybody was told
the outcome.

RESILIENCE_USERS (default 60; `make soak` runs 1,000) and RESILIENCE_SEED (default 20261126)
set the size and the dice.
The soak (`make soak`, which CI also runs) is the same with 1,000 users, and the fuzz tests
with 5,000 examples each.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests import factories as f

USERS = int(os.environ.get("RESILIENCE_USERS", "60"))
SEED = int(os.environ.get("RESILIENCE_SEED", "20261126"))
FIRST_USER = 700_000


def settle(live, users, status_of, pending, timeout=60.0):
    """Until no user has work `pending`: let the jobs finish, and reconcile (asking Astria about
    everything in progress) settle what a lost callback never told."""
    deadline = time.monotonic() + timeout
    while True:
        live.idle()
        live.rt.services.reconciler.run(timedelta(minutes=-60))  # all in progress, even early
        live.idle()
        if not any(status_of(u) == pending for u in users):
            return
        assert time.monotonic() < deadline, f"work still {pending} after {timeout}s"
        time.sleep(0.1)


@pytest.mark.long  # started first: it sets how long the run takes
def test_users_journeys_with_random_faults(make_live, telegram):
    journeys(make_live, telegram, USERS)


@pytest.mark.soak
def test_a_thousand_users_with_random_faults(make_live, telegram):
    journeys(make_live, telegram, 1000)


def journeys(make_live, telegram, count: int) -> None:
    """`count` users train and generate while faults are injected; then the invariants."""
    rng = random.Random(SEED)
    live = make_live(
        SANDBOX_TRAIN_SECONDS="0.3",
        SANDBOX_PROMPT_SECONDS="0.2",
        ASTRIA_BACKOFF="0.001",
        JOB_WORKERS="8",
    )
    store = live.rt.store
    users = [FIRST_USER + n for n in range(count)]
    faults = Counter()

    def deliver(update):
        """Post an update; sometimes Telegram delivers it twice."""
        live.post_update(update)
        if rng.random() < 0.1:
            faults["duplicate delivery"] += 1
            live.post_update(update)

    def fault(label, n, **spec):
        faults[label] += n
        live.sandbox_fault(times=n, **spec)

    # Phase 1: everyone trains a model; Astria misbehaves now and then.
    fault(
        "astria 500 on a new tune (retried)",
        count // 10,
        kind="http",
        method="POST",
        path="/tunes",
        status=500,
    )
    fault(
        "astria 422 on a new tune",
        count // 20,
        kind="http",
        method="POST",
        path="/tunes",
        status=422,
        body={"error": "no face found"},
    )
    fault("tune callback lost", count // 10, kind="drop_callback", target="tune")
    fault("tune failed on astria", count // 20, kind="fail", target="tune", body="bad photos")
    scripts = {}
    for user in users:
        updates = [f.message(user, "/start"), f.message(user, "/train")]
        for n in range(4):
            telegram.add_file(f"rs-{user}-{n}", f.jpeg(600, 600))
            updates.append(f.photo(user, f"rs-{user}-{n}", 600, 600))
        updates += [f.message(user, f"Model {user}"), f.callback(user, "cls:person")]
        scripts[user] = updates

    def run(script):
        for update in script:
            deliver(update)

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(run, scripts.values()))

    def model_status(user):
        models = store.list_models(user)
        return models[0].status if models else None

    settle(live, users, model_status, "training")
    # Astria's callbacks arrive twice for some models: nothing changes, nobody hears twice.
    for user in rng.sample(users, count // 10):
        model = store.list_models(user)[0]
        if model.tune_id:
            faults["duplicate tune callback"] += 1
            live.callback(
                "tune",
                model.id,
                {"tune": {"id": model.tune_id, "trained_at": "2026-01-01T00:00:00Z"}},
            )

    # Phase 2: everyone with a ready model generates; faults on Astria and on Telegram.
    ready = [u for u in users if model_status(u) == "ready"]
    fault(
        "astria 504 on a new prompt (outcome unknown)",
        len(ready) // 20,
        kind="http",
        method="POST",
        path=r"/tunes/\d+/prompts",
        status=504,
    )
    fault("prompt callback lost", len(ready) // 10, kind="drop_callback", target="prompt")
    fault(
        "prompt failed on astria",
        len(ready) // 20,
        kind="fail",
        target="prompt",
        body="content filter",
    )
    faults["telegram 429 on an album"] += 5
    telegram.fail("sendMediaGroup", 429, times=5, retry_after=1)
    faults["telegram 403: user blocked the bot"] += 3
    telegram.fail("sendMediaGroup", 403, times=3, description="Forbidden: bot was blocked")

    def generate(user):
        model = store.list_models(user)[0]
        deliver(f.callback(user, f"gen:{model.id}"))
        deliver(f.message(user, "a portrait in the rain"))

    with ThreadPoolExecutor(12) as pool:
        list(pool.map(generate, ready))

    def generation_status(user):
        found = store.list_generations(user)
        return found[0].status if found else None

    settle(live, ready, generation_status, "processing")
    for user in rng.sample(ready, len(ready) // 10):
        generation = store.list_generations(user)[0]
        if generation.status == "done":
            faults["duplicate prompt callback"] += 1
            live.callback(
                "prompt",
                generation.id,
                {"prompt": {"id": int(generation.prompt_id), "images": list(generation.images)}},
            )
    live.idle()

    # The invariants.
    violations = []
    sent = Counter()
    albums = Counter()
    for call in list(telegram.calls):
        if call.error:
            continue  # refused by "Telegram": not delivered
        if call.method == "sendMessage":
            sent[(call.chat_id, call.text.split("\n")[0])] += 1
        elif call.method == "sendMediaGroup":
            albums[call.chat_id] += 1

    def told(user, start):
        return sum(n for (chat, text), n in sent.items() if chat == user and text.startswith(start))

    for user in users:
        account = store.get_user(user)
        ledger = store.ledger(user)
        if account.credits != sum(e.delta for e in ledger):
            violations.append((user, "balance differs from the ledger"))
        refs = Counter((e.reason, e.ref) for e in ledger)
        if any(n > 1 for n in refs.values()):
            violations.append((user, "charged or refunded twice"))
        (model,) = store.list_models(user)
        generations = store.list_generations(user)
        charged = {(e.reason, e.ref) for e in ledger}
        if ("train", str(model.id)) not in charged:
            violations.append((user, "model without its charge"))
        if model.status == "training":
            violations.append((user, "model still training"))
        refunded = ("train_refund", str(model.id)) in charged
        if (model.status == "failed") != refunded:
            violations.append((user, "failed model not refunded, or ready model refunded"))
        ready_msgs = told(user, f"Your model “{model.name}” is ready!")
        failed_msgs = told(user, f"I couldn't train “{model.name}”")
        blocked = account.status == "blocked"
        if model.status == "ready" and ready_msgs != 1:
            violations.append((user, f"told 'ready' {ready_msgs} times"))
        if model.status == "failed" and failed_msgs != 1:
            violations.append((user, f"told 'failed' {failed_msgs} times"))
        for generation in generations:
            if ("generate", str(generation.id)) not in charged:
                violations.append((user, "generation without its charge"))
            if generation.status == "processing":
                violations.append((user, "generation still processing"))
            gen_refunded = ("generate_refund", str(generation.id)) in charged
            if (generation.status == "failed") != gen_refunded:
                violations.append((user, "failed generation not refunded, or done refunded"))
            if generation.status == "done" and not blocked:
                if albums[user] != 1:
                    violations.append((user, f"{albums[user]} albums for one generation"))
                more = told(user, f"Want more pictures with “{model.name}”?")
                if more != 1:
                    violations.append((user, f"told 'done' {more} times"))
            told_failure = told(user, "I couldn't create")
            if generation.status == "failed" and not blocked and told_failure != 1:
                violations.append((user, f"told 'generation failed' {told_failure} times"))
    report = {
        "users": count,
        "journeys": count + len(ready),
        "faults injected": dict(faults),
        "faults total": sum(faults.values()),
        "models": dict(Counter(model_status(u) for u in users)),
        "generations": dict(Counter(generation_status(u) for u in ready)),
        "blocked users": sum(store.get_user(u).status == "blocked" for u in users),
        "violations": len(violations),
    }
    print("\nresilience:", json.dumps(report, indent=1))
    assert violations == [], violations[:10]
    assert report["models"].get("failed") and report["models"].get("ready")
