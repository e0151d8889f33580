"""An Astria outage delays work, it doesn't fail it: 5xx, 429 and unreachable are tried again
with growing pauses until ASTRIA_RETRY_MINUTES after the work began (the user is told once);
only then is it failed and refunded. A refusal (4xx) still fails at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests import factories as f
from tests.support import sandbox_tunes, start_training, trained_model

USER = 6101
WAITING = {"ASTRIA_RETRY_MINUTES": "15", "SWEEP_SECONDS": "0.3"}


def test_a_training_waits_out_an_outage_and_the_user_hears_once(make_live, telegram):
    live = make_live(**WAITING)
    # Astria answers 503 to every upload for a while: the client's own retries, then more
    live.sandbox_fault(kind="http", method="POST", path="/tunes", status=503, times=12)
    start_training(live, telegram, USER, name="Patient")
    telegram.wait_text(USER, "so training “Patient” is taking longer", timeout=20)
    (model,) = live.rt.store.list_models(USER)
    assert model.status == "training"  # not failed, not refunded
    assert live.rt.store.get_user(USER).credits == 3 - 1
    # the next tries come from the sweep, after growing pauses; force the clock forward
    for _ in range(6):
        with live.rt.store._write() as db:
            db.execute("UPDATE telegram_models SET upload_claimed_at = NULL")
        live.rt.services.resume()
        live.idle()
        if sandbox_tunes(live):
            break
    telegram.wait_text(USER, "Your model “Patient” is ready!", timeout=20)
    waits = [t for t in telegram.texts(USER) if "is taking longer" in t]
    assert len(waits) == 1  # told once, however many tries
    assert [e.delta for e in live.rt.store.ledger(USER)] == [3, -1]


def test_past_the_deadline_the_work_fails_and_is_refunded(make_live, telegram):
    live = make_live(**WAITING)
    model = trained_model(live, telegram, USER)
    live.sandbox_fault(kind="http", method="POST", path=r"/tunes/\d+/prompts", status=500, times=50)
    live.post_update(f.callback(USER, f"sty:{model.id}:noir"))
    telegram.wait_text(USER, "your images with “Me” are taking longer", timeout=20)
    (generation,) = live.rt.store.list_generations(USER)
    assert generation.status == "processing"
    began = datetime.now(UTC) - timedelta(minutes=16)  # as if it had waited 16 minutes
    with live.rt.store._write() as db:
        db.execute(
            "UPDATE telegram_prompts SET created_at = ?, submit_claimed_at = NULL",
            (began.isoformat(timespec="milliseconds"),),
        )
    live.rt.services.resume()
    live.idle()
    telegram.wait_text(USER, "I couldn't create the images")
    assert live.rt.store.get_generation(generation.id).status == "failed"
    assert live.rt.store.get_user(USER).credits == 3 - 1  # the model's credit only


def test_a_refusal_still_fails_at_once(make_live, telegram):
    live = make_live(**WAITING)
    live.sandbox_fault(
        kind="http", method="POST", path="/tunes", status=422, body='{"error": "bad"}'
    )
    start_training(live, telegram, USER, name="Refused")
    telegram.wait_text(USER, "I couldn't train “Refused”", timeout=20)
    assert not any("taking longer" in t for t in telegram.texts(USER))
    assert live.rt.store.get_user(USER).credits == 3
