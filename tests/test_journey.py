"""The whole chat journey against the app served over HTTP (the real telebot, the real Astria
client and the sandbox, all over the wire), on every store."""

from __future__ import annotations

import json

from tests.journey import run_journey
from tests.live import TOKEN


def test_whole_journey_from_start_to_album(make_live, telegram, store_env):
    live = make_live(**store_env)
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
    assert len(json.loads(result["album"].params["media"])) == 4
    model = store.get_model(result["model_id"])
    assert model.status == "ready" and model.tune_id is not None


def test_state_written_by_one_app_is_read_by_another(make_live, telegram, store_env):
    from tests import factories as f

    first, second = make_live(**store_env), make_live(**store_env)
    first.post_update(f.message(4343, "/train"))
    telegram.add_file("shared-0", f.jpeg())
    second.post_update(f.photo(4343, "shared-0"))  # another worker takes the next update
    assert telegram.texts(4343)[-1] == "Photo 1 of 4 received. 3 to go."
    update = f.message(4343, "/help")
    first.post_update(update, answered=False)  # Telegram gave up waiting for this one
    second.post_update(update)  # so it delivers it again, to the other worker
    assert len([t for t in telegram.texts(4343) if t.startswith("What I can do")]) == 1
