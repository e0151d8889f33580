"""The whole chat journey against the app served over HTTP (the real telebot, the real Astria
client and the sandbox, all over the wire)."""

from __future__ import annotations

from tests.journey import run_journey
from tests.live import TOKEN


def test_whole_journey_from_start_to_album(live, telegram):
    result = run_journey(
        live.post_update,
        telegram,
        user_id=4242,
        sandbox_db=f"{live.settings_env['INSTANCE_PATH']}/astria-sandbox.sqlite3",
        token=TOKEN,
    )
    store = live.rt.store
    assert store.get_user(4242).credits == 1
    ledger = store.ledger(4242)
    assert [(e.reason, e.delta) for e in ledger] == [("signup", 3), ("train", -1), ("generate", -1)]
    assert sum(e.delta for e in ledger) == store.get_user(4242).credits
    (generation,) = store.list_generations(4242)
    assert generation.status == "done" and len(generation.images) == 4
    album = result["album"]
    assert len(__import__("json").loads(album.params["media"])) == 4
    model = store.get_model(result["model_id"])
    assert model.status == "ready" and model.tune_id is not None
