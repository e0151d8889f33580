"""/delete (chat and Mini App) and the admin's /stats and /grant."""

from __future__ import annotations

import sqlite3

from tests import factories as f
from tests.support import call, trained_model

USER = 9800
ADMIN = 111


def sandbox_deleted(live, tune_id) -> bool:
    db = sqlite3.connect(f"{live.rt.settings.instance_path}/astria-sandbox.sqlite3")
    (deleted,) = db.execute("SELECT deleted FROM tunes WHERE id = ?", (tune_id,)).fetchone()
    db.close()
    return bool(deleted)


def test_delete_asks_first_then_removes_everything_here_and_on_astria(live, telegram):
    model = trained_model(live, telegram, USER)
    live.post_update(f.message(USER, "/delete"))
    ask = telegram.calls_to("sendMessage", USER)[-1]
    assert ask.text.startswith("Delete everything?")
    assert [b["callback_data"] for b in ask.buttons()] == ["del:yes", "del:no"]
    live.post_update(f.callback(USER, "del:no"))
    assert telegram.texts(USER)[-1] == "Nothing was deleted."
    assert live.rt.store.get_user(USER) is not None

    live.post_update(f.callback(USER, "del:yes"))
    assert telegram.texts(USER)[-1].startswith("Done: all your data is deleted.")
    store = live.rt.store
    assert store.list_models(USER) == [] and store.ledger(USER) == []
    assert store.list_generations(USER) == []
    assert sandbox_deleted(live, model.tune_id)
    assert store.get_user(USER) is None
    # coming back starts a fresh account, without a second signup bonus
    live.post_update(f.message(USER, "/credits"))
    assert telegram.texts(USER)[-1].startswith("You have 0 credits.")


def test_delete_keeps_everything_when_astria_cannot_delete(live, telegram):
    trained_model(live, telegram, USER)
    live.sandbox_fault(kind="http", method="DELETE", path=r"/tunes/\d+", status=500, times=10)
    live.post_update(f.message(USER, "/delete"))
    live.post_update(f.callback(USER, "del:yes"))
    assert telegram.texts(USER)[-1].startswith("I couldn't delete your models on Astria")
    assert len(live.rt.store.list_models(USER)) == 1


def test_the_mini_app_api_deletes_too(live, telegram):
    call(live, "GET", "/api/bot/me", user_id=USER + 1)
    response = call(live, "DELETE", "/api/bot/me", user_id=USER + 1)
    assert response.status_code == 200 and response.json() == {"deleted": True, "models": 0}
    assert live.rt.store.ledger(USER + 1) == []


def test_admins_get_stats_and_grant_credits_once(make_live, telegram):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    trained_model(live, telegram, USER)
    live.post_update(f.message(ADMIN, "/stats"))
    assert telegram.texts(ADMIN)[-1] == (
        "Users: 2\nModels: 1 (1 ready)\nGenerations: 0\nCredits spent today: 1\n"
        "Stars earned: 0 (refunded: 0), paying users: 0"
    )
    grant = f.message(ADMIN, f"/grant {USER} 5")
    live.post_update(grant)
    assert telegram.texts(ADMIN)[-1] == (
        f"Granted 5 credits to {USER}; their balance is now 7 credits."
    )
    # the same /grant message handled again (an admin's double send is a new message; this is
    # the same one, under another update): nothing more is granted, and the admin is told
    # what the grant made, as the first time (whose answer a crash may have cut short)
    grant["update_id"] += 10_000
    live.post_update(grant)
    assert (
        telegram.texts(ADMIN)[-2:]
        == [f"Granted 5 credits to {USER}; their balance is now 7 credits."] * 2
    )
    live.post_update(f.message(ADMIN, "/grant 404 5"))
    assert telegram.texts(ADMIN)[-1] == "There is no user 404."
    live.post_update(f.message(ADMIN, "/grant nobody"))
    assert telegram.texts(ADMIN)[-1] == "Usage: /grant <telegram_id> <credits>"
    ledger = live.rt.store.ledger(USER)
    assert ledger[-1].reason == "grant" and ledger[-1].delta == 5
    assert sum(e.delta for e in ledger) == live.rt.store.get_user(USER).credits == 7


def test_non_admins_cannot_use_admin_commands(make_live, telegram):
    live = make_live(ADMIN_CHAT_IDS=str(ADMIN))
    live.post_update(f.message(USER, "/stats"))
    live.post_update(f.message(USER, f"/grant {USER} 100"))
    assert all(t.startswith("I'm not sure what you mean") for t in telegram.texts(USER))
    assert live.rt.store.get_user(USER).credits == 3
