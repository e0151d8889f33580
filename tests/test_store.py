"""The store contract: every method, and credits that stay right under concurrency.

Parametrized over the stores: SQLite, and Supabase (PostgREST + PostgreSQL) where it runs."""

from __future__ import annotations

import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import make_model
from webapp.records import Conversation, MarkKind, NotEnoughCredits, StateWrite, StoreError
from webapp.store.sqlite import SQLiteStore
from webapp.store.supabase import SupabaseStore

TG = 555


@pytest.fixture(params=["sqlite", "supabase"])
def store(request, tmp_path):
    """A fresh store of each kind."""
    if request.param == "sqlite":
        made = SQLiteStore(str(tmp_path / "store.sqlite3"))
    else:
        stack = request.getfixturevalue("supabase")
        stack.reset()
        made = SupabaseStore(stack.url, stack.service_role_key)
        made.stack = stack
    yield made
    made.close()


def raw_sql(store, sql: str) -> None:
    """Change the data behind the store's back (as an old version of the app left it)."""
    if isinstance(store, SQLiteStore):
        with store._write() as db:
            db.execute(sql)
    else:
        store.stack.psql(sql)


def same_kind(store):
    """Another store object on the same data (another connection, as another worker has)."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path)
    return SupabaseStore(str(store.client.supabase_url), store.client.supabase_key)


def user(store, telegram_id=TG, credits=3, **profile):
    defaults = {"username": "ann", "first_name": "Ann", "last_name": None, "language_code": "en"}
    return store.ensure_user(
        telegram_id,
        free_credits=credits,
        signup_key=f"key-{telegram_id}",
        **{**defaults, **profile},
    )


def model(store, telegram_id=TG, cost=1, title="title"):
    made = make_model(
        store, telegram_id, title=title, photo_file_ids=["a", "b", "c", "d"], cost=cost
    )
    return made, store.get_user(telegram_id).credits


def balance_matches_ledger(store, telegram_id=TG):
    return store.get_user(telegram_id).credits == sum(e.delta for e in store.ledger(telegram_id))


def test_users_get_free_credits_once_and_their_profile_refreshed(store):
    created, is_new = user(store)
    assert is_new and created.credits == 3 and created.status == "active"
    again, is_new = user(store, first_name="Anna", language_code=None)
    assert not is_new and again.credits == 3 and again.first_name == "Anna"
    assert again.language_code == "en"  # an update without a language keeps the known one
    assert [(e.reason, e.delta) for e in store.ledger(TG)] == [("signup", 3)]
    assert store.get_user(404) is None


def test_deleting_a_user_removes_their_rows_but_not_the_signup_mark(store):
    user(store)
    model(store)
    store.set_conversation(f"state:1:{TG}:{TG}", "x", {"a": 1})
    store.set_conversation(f"state:1:{TG}1:{TG}1", "x", {"b": 2})  # someone else's
    assert store.delete_user(TG).models == 1
    assert store.get_user(TG) is None and store.ledger(TG) == [] and store.list_models(TG) == []
    assert store.get_conversation(f"state:1:{TG}:{TG}").state is None
    assert store.get_conversation(f"state:1:{TG}1:{TG}1").data == {"b": 2}
    back, created = user(store)
    assert created and back.credits == 0  # no second signup bonus
    assert balance_matches_ledger(store)


def test_deleting_a_user_returns_the_astria_ids_their_rows_named(store):
    user(store, credits=5)
    model(store)  # still uploading: no tune id
    ready = make_model(store, TG, title="ready", ready_as=2**40)  # a tune id past int4
    sent, _ = store.create_generation(TG, model_id=ready.id, prompt="x", num_images=1, cost=1)
    store.mark_generation_submitted(sent.id, "3000001")
    store.create_generation(TG, model_id=ready.id, prompt="y", num_images=1, cost=1)  # unsent
    deleted = store.delete_user(TG)
    assert (deleted.models, deleted.tunes, deleted.prompts) == (
        2,
        (2**40,),
        (("3000001", 2**40, "lora"),),
    )
    assert store.delete_user(TG).models == 0 and store.list_models(TG) == []


def test_a_models_type_cost_and_traits_and_a_generations_style_are_kept(store):
    user(store, credits=9)
    traits = {"age": "30 yo", "glasses": "glasses"}
    quick = make_model(
        store, TG, model_type="faceid", cost=2, characteristics=traits, ready_as=3000
    )
    again = store.get_model(quick.id)
    assert (again.model_type, again.cost, again.characteristics) == ("faceid", 2, traits)
    made, balance = store.create_generation(
        TG, model_id=quick.id, prompt="", num_images=4, cost=3, style="noir", hd=True
    )
    stored = store.get_generation(made.id)
    assert (stored.style, stored.hd, stored.cost, stored.prompt) == ("noir", True, 3, "")
    assert balance == 9 - 2 - 3
    store.mark_generation_submitted(made.id, "3000002")
    # what the migration left on a model made before models had types
    raw_sql(store, "UPDATE telegram_models SET model_type = 'lora', cost = NULL")
    assert store.get_model(quick.id).model_type is None  # the deployment's type
    assert store.delete_user(TG).prompts == (("3000002", 3000, None),)


def test_an_album_is_claimed_by_one_sender_and_found_again_if_cut_short(store):
    user(store, credits=5)
    ready = make_model(store, TG, ready_as=5000)
    made, _ = store.create_generation(TG, model_id=ready.id, prompt="x", num_images=1, cost=1)
    assert store.generations_awaiting_delivery() == []  # still processing
    store.finish_generation(made.id, ["https://x/1.jpg"], "3000009")
    assert [g.id for g in store.generations_awaiting_delivery()] == [made.id]
    assert store.claim_delivery(made.id, 60)
    other = same_kind(store)  # another worker
    assert not other.claim_delivery(made.id, 60)  # one sender at a time
    assert other.claim_delivery(made.id, 0)  # its lease ran out: cut short
    other.close()
    store.mark_delivered(made.id)
    assert store.generations_awaiting_delivery() == []
    assert not store.claim_delivery(made.id, 0)  # delivered: never again


def test_stats_count_users_models_and_net_spending(store):
    user(store, credits=5)
    created, _ = model(store)
    store.fail_model(created.id, "x", refund=1)
    model(store, title="second")
    stats = store.stats(datetime.now(UTC) - timedelta(hours=1))
    assert stats == {
        "users": 1,
        "models": 2,
        "models_ready": 0,
        "generations": 0,
        "spent_since": 1,
        "stars_earned": 0,
        "stars_refunded": 0,
        "paying_users": 0,
    }


def test_a_payment_grants_once_per_charge_and_a_refund_takes_back_once(store):
    buyer, _ = user(store, credits=5)
    order = store.create_order(buyer.telegram_id, 10, 100)
    assert store.get_order(order.id).paid_at is None
    payment, balance = store.record_payment(buyer.telegram_id, "ch-1", order.id, 10, 100)
    assert balance == 15 and payment.charge_id == "ch-1" and payment.order_id == order.id
    assert store.get_order(order.id).paid_at is not None
    again, balance = store.record_payment(buyer.telegram_id, "ch-1", order.id, 10, 100)
    assert balance is None and again.id == payment.id
    # an old invoice paid once more is a new charge: its own payment and grant
    _, balance = store.record_payment(buyer.telegram_id, "ch-2", order.id, 10, 100)
    assert balance == 25
    assert [p.charge_id for p in store.payments_of(buyer.telegram_id)] == ["ch-2", "ch-1"]
    store.grant(buyer.telegram_id, -22, "test", "spend")  # 3 left
    refunded = store.refund_payment("ch-1")
    assert refunded.taken_back == 3 and refunded.refunded_at is not None
    assert store.refund_payment("ch-1") is None and store.refund_payment("nope") is None
    assert store.get_user(buyer.telegram_id).credits == 0
    assert balance_matches_ledger(store)
    stats = store.stats(datetime.now(UTC) - timedelta(hours=1))
    assert (stats["stars_earned"], stats["stars_refunded"], stats["paying_users"]) == (200, 100, 1)
    # the record of money taken outlives /delete
    store.delete_user(buyer.telegram_id)
    assert store.get_payment("ch-2") is not None


def begin(store, update_id, holder, lease=60.0, telegram_id=TG, state_key="state:555:555"):
    return store.begin_update(
        update_id,
        telegram_id,
        username="ann",
        first_name="Ann",
        last_name=None,
        language_code="en",
        free_credits=3,
        signup_key=f"key-{telegram_id}",
        state_key=state_key,
        holder=holder,
        lease=lease,
    )


def test_an_update_is_claimed_then_done_and_a_redelivery_then_skipped(store):
    first = store.claim_update(1, "a", 60)
    assert first.claimed and not first.busy
    held = store.claim_update(1, "b", 60)  # another process, while "a" handles it
    assert not held.claimed and held.busy and held.held_at
    assert store.finish_update(1, "b", []) is False  # not b's to finish
    assert store.finish_update(1, "a", []) is True
    done = store.claim_update(1, "b", 0)  # done: never again, whatever the lease
    assert not done.claimed and not done.busy
    assert store.finish_update(1, "b", []) is False  # done, and never b's
    assert store.claim_update(2, "b", 60).claimed


def test_a_claim_whose_process_stopped_renewing_is_taken_over_and_only_its_writes_count(store):
    assert begin(store, 7, "dead").claimed
    time.sleep(0.01)  # the lease of 0 below has run out
    again = begin(store, 7, "alive", lease=0)
    assert again.claimed and again.user.telegram_id == TG
    mine = StateWrite("state:555:555", "TrainStates:name", {"photos": ["x"]})
    theirs = StateWrite("state:555:555", "TrainStates:photos", {"photos": ["late"]})
    assert store.finish_update(7, "dead", [theirs]) is False  # it woke up too late: nothing
    assert store.get_conversation("state:555:555").state is None
    assert store.finish_update(7, "alive", [mine]) is True
    assert store.get_conversation("state:555:555") == Conversation(mine.state, mine.data)
    assert not begin(store, 7, "third", lease=0).claimed


def test_a_renewed_claim_shows_its_process_is_alive_and_is_not_taken_over(store):
    assert store.claim_update(9, "a", 60).claimed
    seen = store.claim_update(9, "b", 60).held_at
    time.sleep(0.01)
    store.renew_updates([9], "b")  # not b's claim: nothing renewed
    assert store.claim_update(9, "b", 60).held_at == seen
    store.renew_updates([9, 10], "a")
    renewed = store.claim_update(9, "b", 60)
    assert renewed.busy and renewed.held_at != seen


def test_updates_that_wrote_nothing_are_marked_done_together(store):
    for update_id in (11, 12):
        assert store.claim_update(update_id, "a", 60).claimed
    assert store.claim_update(13, "b", 60).claimed
    answer = {"method": "sendMessage", "chat_id": 5, "text": "Привет"}
    store.updates_done([(11, answer), (12, None), (13, None)], "a")
    for update_id, answered in ((11, answer), (12, None)):
        found = store.claim_update(update_id, "b", 0)
        assert not found.claimed and not found.busy and found.answer == answered
    assert store.claim_update(13, "c", 60).busy  # b's: still running


def test_a_done_update_gives_a_redelivery_the_answer_it_carried(store):
    answer = {"method": "sendMessage", "chat_id": 5, "text": "All 4 photos received"}
    assert begin(store, 30, "a").claimed
    writes = [StateWrite("state:555:555", "TrainStates:name", {"photos": [1, 2, 3, 4]})]
    assert store.finish_update(30, "a", writes, answer)
    again = begin(store, 30, "b", lease=0)
    assert not again.claimed and not again.busy and again.answer == answer
    # the same holder finishing again (its first try's answer was lost): done, nothing rewritten
    store.set_conversation("state:555:555", "TrainStates:class_name", {})
    assert store.finish_update(30, "a", [StateWrite("state:555:555", None, None)], None)
    assert store.get_conversation("state:555:555").state == "TrainStates:class_name"
    assert begin(store, 30, "b").answer == answer


def test_a_claim_made_the_old_way_counts_as_done(store):
    """A row an instance not yet upgraded wrote (no holder): handled, as it was then."""
    raw_sql(store, "INSERT INTO processed_updates (update_id, received_at) VALUES (40, "
            "'2026-12-07T00:00:00.000+00:00')")  # fmt: skip
    found = store.claim_update(40, "b", 0.01)
    assert not found.claimed and not found.busy


def test_a_redelivery_held_by_another_process_registers_nobody(store):
    assert store.claim_update(20, "a", 60).claimed  # the update of a new user, held by "a"
    held = begin(store, 20, "b", telegram_id=999)
    assert held.busy and held.user is None and store.get_user(999) is None


def test_the_state_an_update_clears_is_cleared_with_its_done_mark(store):
    store.set_conversation("state:555:555", "TrainStates:photos", {"photos": ["x"]})
    assert begin(store, 21, "a").conversation.state == "TrainStates:photos"
    assert store.finish_update(21, "a", [StateWrite("state:555:555", None, None)])
    assert store.get_conversation("state:555:555") == Conversation(None, {})


def test_what_an_update_creates_is_created_once_per_update(store):
    user(store, credits=10)
    made, balance = model(store, title="from-update-5")
    again, balance_again = model(store, title="from-update-5")
    assert again.id == made.id and balance_again == balance == 9
    store.finish_model(made.id, 101, None)
    kwargs = {"model_id": made.id, "prompt": "x", "num_images": 4, "cost": 2}
    first, after = store.create_generation(TG, request_key="u6", **kwargs)
    repeat, after_repeat = store.create_generation(TG, request_key="u6", **kwargs)
    other, _ = store.create_generation(TG, request_key="u7", **kwargs)
    assert repeat.id == first.id != other.id and after == after_repeat == 7
    assert store.get_user(TG).credits == 5 and balance_matches_ledger(store)
    user(store, telegram_id=777)  # another user's update 6 is another update: its own order
    order = store.create_order(TG, 10, 50, request_key="u6")
    assert store.create_order(TG, 10, 50, request_key="u6").id == order.id
    assert store.create_order(777, 10, 50, request_key="u6").id != order.id
    assert store.create_order(TG, 10, 50).id != store.create_order(TG, 10, 50).id


def test_conversations_are_kept_and_cleared(store):
    assert store.get_conversation("k").state is None
    store.set_conversation("k", "TrainStates:photos", {"photos": [{"file_id": "x"}]})
    got = store.get_conversation("k")
    assert got.state == "TrainStates:photos" and got.data == {"photos": [{"file_id": "x"}]}
    store.clear_conversation("k")
    assert store.get_conversation("k").data == {}


def test_marks_are_kept_once_forgotten_by_age_and_kind_and_go_with_their_user(store):
    user(store, telegram_id=7)
    verdict, slow = MarkKind.PHOTO_VERDICT, MarkKind.SLOW_NOTICE
    assert store.mark(verdict, "AgAD_x-1:7", 7, {"problems": ["blurry"]})
    assert not store.mark(verdict, "AgAD_x-1:7", 7, {"problems": []})  # once: kept as it was
    assert store.get_mark(verdict, "AgAD_x-1:7") == {"problems": ["blurry"]}
    assert store.mark(verdict, "AgAD_x-1:7", 7, {"problems": []}, replace=True)
    assert store.get_mark(verdict, "AgAD_x-1:7") == {"problems": []}
    assert store.mark(slow, "Model:1:7", 7) and not store.mark(slow, "Model:1:7", 7)
    assert not store.mark(slow, "Model:2:8", 8)  # no such user: nothing kept
    store.set_conversation("state:7:7", "TrainStates:photos", {})
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert store.forget_marks(verdict, later - timedelta(hours=1)) == 0  # too young
    assert store.forget_marks(verdict, later) == 1
    assert store.get_mark(verdict, "AgAD_x-1:7") is None
    assert store.get_mark(slow, "Model:1:7") == {}  # another kind: kept
    assert store.get_conversation("state:7:7").state == "TrainStates:photos"  # not a mark
    store.mark(verdict, "AgAD_y:7", 7, {"problems": []})
    store.delete_user(7)
    assert store.get_mark(slow, "Model:1:7") is None and store.get_mark(verdict, "AgAD_y:7") is None


def test_a_model_is_charged_with_its_row_or_not_at_all(store):
    user(store, credits=1)
    created, balance = model(store)
    assert balance == 0 and created.status == "training" and created.tune_id is None
    assert created.photo_file_ids == ("a", "b", "c", "d")
    with pytest.raises(NotEnoughCredits) as caught:
        model(store, title="second")
    assert caught.value.params == {"need": 1, "have": 0}
    assert [m.title for m in store.list_models(TG)] == ["title"]  # no half-written row
    assert balance_matches_ledger(store)


def test_model_lifecycle_and_a_refund_that_happens_once(store):
    user(store)
    created, _ = model(store)
    assert store.claim_model_upload(created.id, 600) is True
    assert store.claim_model_upload(created.id, 600) is False  # leased
    assert store.claim_model_upload(created.id, 0) is True  # lease expired
    assert [m.id for m in store.models_awaiting_upload()] == [created.id]
    assert store.mark_model_submitted(created.id, 99, None)
    assert store.models_awaiting_upload() == []
    outcomes = [store.fail_model(created.id, "astria: no", refund=1) for _ in range(3)]
    assert outcomes[0][0].status == "failed" and outcomes[0][1] == 3
    assert outcomes[1:] == [None, None]
    assert store.finish_model(created.id, 99, None) is None  # failed stays failed
    assert store.get_user(TG).credits == 3 and balance_matches_ledger(store)


def test_finish_model_once(store):
    user(store)
    created, _ = model(store)
    ready = store.finish_model(created.id, 77, None)
    assert ready.status == "ready" and ready.tune_id == 77 and ready.trained_at is not None
    assert store.finish_model(created.id, 77, None) is None
    assert store.fail_model(created.id, "late", refund=1) is None
    assert store.get_model(created.id).status == "ready"


def test_generations_charge_finish_fail_and_page(store):
    user(store, credits=10)
    created, _ = model(store)
    gens = [
        store.create_generation(TG, model_id=created.id, prompt=f"p{n}", num_images=4, cost=1)[0]
        for n in range(5)
    ]
    assert store.get_user(TG).credits == 4
    page = store.list_generations(TG, limit=2)
    assert [g.prompt for g in page] == ["p4", "p3"]
    assert [g.prompt for g in store.list_generations(TG, limit=2, before_id=page[-1].id)] == [
        "p2",
        "p1",
    ]
    assert store.list_generations(TG, model_id=created.id + 1) == []
    assert store.claim_generation_submit(gens[0].id, 600)
    assert not store.claim_generation_submit(gens[0].id, 600)
    assert store.mark_generation_submitted(gens[0].id, "p-1")
    assert gens[0].id not in [g.id for g in store.generations_awaiting_submit()]
    done = store.finish_generation(gens[0].id, ["u1", "u2"], "p-1")
    assert done.status == "done" and done.images == ("u1", "u2")
    assert store.finish_generation(gens[0].id, ["u3"], "p-1") is None
    assert store.fail_generation(gens[0].id, "x", refund=1) is None
    failed, balance = store.fail_generation(gens[1].id, "astria: no", refund=1)
    assert failed.status == "failed" and balance == 5
    assert store.fail_generation(gens[1].id, "again", refund=1) is None
    assert store.get_user(TG).credits == 5 and balance_matches_ledger(store)


def test_grants_happen_once_per_reference(store):
    user(store, credits=0)
    assert store.grant(TG, 5, "grant", "admin-1") == 5
    assert store.grant(TG, 5, "grant", "admin-1") is None
    assert store.get_user(TG).credits == 5


def test_twenty_parallel_spends_against_five_credits(store, tmp_path):
    user(store, credits=5)
    # separate store objects = separate connections, as in separate gunicorn workers
    stores = [same_kind(store) for _ in range(4)]

    def spend(n):
        try:
            model(stores[n % 4], title=f"t{n}")
            return True
        except NotEnoughCredits:
            return False

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(spend, range(20)))
    for other in stores:
        other.close()
    assert results.count(True) == 5
    assert store.get_user(TG).credits == 0
    assert len(store.list_models(TG)) == 5
    assert balance_matches_ledger(store)


def test_a_refund_repeated_in_parallel_is_credited_once(store):
    user(store, credits=1)
    created, _ = model(store)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: store.fail_model(created.id, "x", 1), range(8)))
    assert len([o for o in outcomes if o is not None]) == 1
    assert store.get_user(TG).credits == 1 and balance_matches_ledger(store)


def test_many_workers_opening_a_new_database_at_once(tmp_path):
    """gunicorn starts its workers together: none may fail on 'database is locked'."""
    from webapp.sandbox.state import SandboxState

    def open_both(n):
        SQLiteStore(str(tmp_path / "bot.sqlite3")).close()
        SandboxState(str(tmp_path / "sandbox.sqlite3"))
        return True

    for _ in range(5):
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(open_both, range(8)))
        for path in tmp_path.glob("*.sqlite3*"):
            path.unlink()


@pytest.mark.parametrize("made_by", ["the first migration", "the schema before migrations"])
def test_an_old_database_is_upgraded_with_its_data_intact(tmp_path, made_by):
    """A file made by an older version opens with every migration applied and nothing lost."""
    from webapp.store.sqlite import MIGRATIONS, connect, migrate

    path = str(tmp_path / "old.sqlite3")
    db = connect(path)
    if made_by == "the first migration":
        assert migrate(db, MIGRATIONS, upto=1) == 1
    else:  # the inline schema of old, applied without recording a version
        db.executescript((MIGRATIONS / "0001_initial.sql").read_text())
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    now = "2026-01-01T00:00:00.000+00:00"
    db.execute(
        "INSERT INTO telegram_users (telegram_id, username, created_at, last_active, credits) "
        "VALUES (5, 'old', ?, ?, 2)",
        (now, now),
    )
    db.execute(
        "INSERT INTO credit_ledger (telegram_user_id, delta, reason, ref, created_at) "
        "VALUES (5, 3, 'signup', '5', ?), (5, -1, 'train', '1', ?)",
        (now, now),
    )
    db.execute(
        "INSERT INTO telegram_models (telegram_user_id, model_id, created_at, status, name, "
        "class_name, title, updated_at) VALUES (5, 77, ?, 'ready', 'Old', 'man', 't', ?)",
        (now, now),
    )
    db.close()
    store = SQLiteStore(path)
    latest = max(int(p.name[:4]) for p in MIGRATIONS.glob("*.sql"))
    assert store._one("PRAGMA user_version")[0] == latest
    assert store.get_user(5).credits == 2 and balance_matches_ledger(store, 5)
    (model,) = store.list_models(5)
    assert (model.name, model.tune_id, model.status) == ("Old", 77, "ready")
    store.close()


def test_a_new_migration_changes_a_database_in_use_all_or_nothing(tmp_path):
    """The next person's migration: numbered after the last, applied once to a file in use
    (its rows keep their values and get the new column's default); a broken one leaves the
    database as it was, at the version before."""
    from webapp.store.sqlite import MIGRATIONS, connect, migrate

    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(MIGRATIONS / "0001_initial.sql", folder)
    db = connect(str(tmp_path / "bot.sqlite3"))
    assert migrate(db, folder) == 1
    now = "2026-01-01T00:00:00.000+00:00"
    db.execute(
        "INSERT INTO telegram_models (telegram_user_id, created_at, status, name, class_name, "
        "title, updated_at) VALUES (5, ?, 'ready', 'Old', 'man', 't', ?)",
        (now, now),
    )
    (folder / "0002_style.sql").write_text(
        "ALTER TABLE telegram_models ADD COLUMN style TEXT NOT NULL DEFAULT 'plain';\n"
    )
    assert migrate(db, folder) == 2
    assert migrate(db, folder) == 2  # once
    assert db.execute("SELECT name, style FROM telegram_models").fetchall() == [("Old", "plain")]
    (folder / "0003_broken.sql").write_text(
        "ALTER TABLE telegram_models ADD COLUMN mood TEXT;\nTHIS IS NOT SQL;\n"
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, folder)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    columns = [row[1] for row in db.execute("PRAGMA table_info(telegram_models)")]
    assert "style" in columns and "mood" not in columns


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite:///file:/tmp/x.db", "postgres://x"])
def test_a_database_url_that_is_not_a_plain_file_path_is_refused(url):
    """A SQLite URI (file:…) or an empty path would slip past the file's own handling (its mode
    0600, and the rule that only SQLite opens it): refused with the form it should take."""
    with pytest.raises(StoreError, match="sqlite:///path/to/file.sqlite3"):
        SQLiteStore.from_url(url)


def test_sqlite_moves_the_marks_kept_among_chat_states_to_their_own_table(tmp_path):
    from webapp.store.sqlite import MIGRATIONS, connect, migrate

    db = connect(str(tmp_path / "old.sqlite3"))
    migrate(db, MIGRATIONS, upto=5)  # a file from before marks had a table
    db.execute(
        "INSERT INTO telegram_users (telegram_id, credits, created_at, last_active) "
        "VALUES (4242, 0, '2026-12-07', '2026-12-07')"
    )
    db.executemany(
        "INSERT INTO conversation_states (key, state, data, updated_at) VALUES (?, ?, ?, ?)",
        [
            ("slow:Model:7:4242", "told", "{}", "2026-12-07T10:00:00"),
            ("inspect:AgAD-x:4242", "inspected", '{"problems": ["blurry"]}', "2026-12-07T10:00:00"),
            ("inspect:AgAD-y:999", "inspected", "{}", "2026-12-07T10:00:00"),  # user gone
            ("4242:4242:1", "TrainStates:photos", "{}", "2026-12-07T10:00:00"),
        ],
    )
    migrate(db, MIGRATIONS)
    marks = db.execute("SELECT kind, key, telegram_user_id, data FROM marks ORDER BY kind")
    assert [tuple(row) for row in marks] == [
        ("photo_verdict", "AgAD-x:4242", 4242, '{"problems": ["blurry"]}'),
        ("slow_notice", "Model:7:4242", 4242, "{}"),
    ]
    states = db.execute("SELECT key FROM conversation_states").fetchall()
    assert [key for (key,) in states] == ["4242:4242:1"]  # the chat's own state stays
