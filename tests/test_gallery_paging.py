"""A gallery of 1,000 images pages in constant time: keyset pagination (`before=<id>`), served
by the (model_id, id) index in both stores — the query plans are printed and checked here."""

from __future__ import annotations

import pytest

from tests.support import make_model
from webapp.store.sqlite import SQLiteStore

USER = 7001
GENERATIONS = 250  # × 4 images = a gallery of 1,000


def fill(store) -> int:
    """A user with one model and 250 done generations (and another model's, mixed in)."""
    store.ensure_user(USER, free_credits=0, signup_key="paging", username=None,
                      first_name="P", last_name=None, language_code="en")  # fmt: skip
    mine = make_model(store, USER, ready_as=4000)
    other = make_model(store, USER, ready_as=4001)
    for n in range(GENERATIONS):
        for model in (mine, other) if n % 5 == 0 else (mine,):
            made, _ = store.create_generation(
                USER, model_id=model.id, prompt=f"p{n}", num_images=4, cost=0
            )
            store.finish_generation(made.id, [f"https://x/{n}/{i}.jpg" for i in range(4)], None)
    return mine.id


def pages(store, model_id: int) -> list[int]:
    """Walk the gallery as the Mini App does: 30 a page, each from the last id seen."""
    sizes, before = [], None
    while page := store.list_generations(USER, model_id=model_id, limit=30, before_id=before):
        sizes.append(len(page))
        before = page[-1].id
    return sizes


def test_sqlite_pages_by_key_on_the_index(tmp_path):
    store = SQLiteStore(str(tmp_path / "paging.sqlite3"))
    model_id = fill(store)
    statements: list[str] = []
    store._db().set_trace_callback(statements.append)
    assert sum(pages(store, model_id)) == GENERATIONS
    store._db().set_trace_callback(None)
    deep = next(s for s in reversed(statements) if "id <" in s)  # a page far down the gallery
    plan = [row[3] for row in store._db().execute(f"EXPLAIN QUERY PLAN {deep}")]
    print("\nSQLite:", deep, "\n  " + "\n  ".join(plan))
    assert any("USING INDEX telegram_prompts_model (model_id=? AND id<?)" in p for p in plan)
    assert not any("TEMP B-TREE" in p for p in plan)  # no sort: read in index order, then stop
    store.close()


def test_postgres_pages_by_key_on_the_index(supabase):
    from webapp.store.supabase import SupabaseStore

    supabase.reset()
    store = SupabaseStore(supabase.url, supabase.service_role_key)
    model_id = fill(store)
    assert sum(pages(store, model_id)) == GENERATIONS
    # everybody else's galleries, 20,000 generations, so the plan is the one a real table gets
    supabase.psql(
        "INSERT INTO telegram_users (telegram_id, credits) "
        "SELECT 80000 + u, 0 FROM generate_series(1, 200) u; "
        "INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, num_images, images, "
        "status) SELECT 80000 + 1 + g % 200, 100000 + g % 200, 'x', 4, '[]', 'done' "
        "FROM generate_series(1, 20000) g; ANALYZE telegram_prompts;"
    )
    deep = store.list_generations(USER, model_id=model_id, limit=GENERATIONS)[-60].id
    # what PostgREST runs for GET telegram_prompts?telegram_user_id=eq.U&model_id=eq.M&id=lt.X
    # &order=id.desc&limit=30
    plan = supabase.psql(
        "EXPLAIN SELECT * FROM telegram_prompts WHERE telegram_user_id = "
        f"{USER} AND model_id = {model_id} AND id < {deep} ORDER BY id DESC LIMIT 30"
    )
    print("\nPostgreSQL:\n" + plan)
    assert "Index Scan" in plan and "telegram_prompts_model" in plan
    assert "Sort" not in plan
    store.close()


@pytest.mark.parametrize("limit", [30])
def test_the_api_pages_with_before(live, limit):
    from tests.support import call

    live.rt.services.accounts.register(6001)
    model = make_model(live.rt.store, 6001, ready_as=4100)
    for n in range(65):
        made, _ = live.rt.store.create_generation(
            6001, model_id=model.id, prompt=f"p{n}", num_images=4, cost=0
        )
        live.rt.store.finish_generation(made.id, [f"https://x/{n}.jpg"], None)
    seen, before = [], None
    while True:
        query = f"?limit={limit}" + (f"&before={before}" if before else "")
        page = call(live, "GET", f"/api/bot/models/{model.id}/prompts{query}").json()
        seen += [g["id"] for g in page["generations"]]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == len(set(seen)) == 65 and seen == sorted(seen, reverse=True)
