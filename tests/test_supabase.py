"""Only the Supabase store has these: migrations, row-level security, PostgREST errors."""

from __future__ import annotations

import secrets
import threading

import pytest
import requests

from tests import factories as f
from tests.supabase_stack import sign_jwt
from tests.support import eventually
from webapp.records import StoreError
from webapp.store.supabase import SupabaseStore

SEED = """
CREATE TABLE telegram_users (id SERIAL PRIMARY KEY, telegram_id BIGINT UNIQUE NOT NULL,
  username TEXT, first_name TEXT, last_name TEXT,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  last_active TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  status TEXT DEFAULT 'active', credits INTEGER DEFAULT 0);
CREATE TABLE telegram_models (id SERIAL PRIMARY KEY,
  telegram_user_id BIGINT REFERENCES telegram_users(telegram_id), model_id INTEGER NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(), status TEXT DEFAULT 'training');
CREATE TABLE telegram_prompts (id SERIAL PRIMARY KEY,
  telegram_user_id BIGINT REFERENCES telegram_users(telegram_id), model_id INTEGER NOT NULL,
  prompt TEXT NOT NULL, prompt_id TEXT, created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  status TEXT DEFAULT 'processing', images JSONB);
INSERT INTO telegram_users (telegram_id, username, credits) VALUES (10, 'old', 5), (11, 'zero', 0);
INSERT INTO telegram_models (telegram_user_id, model_id, status) VALUES (10, 1661944, 'ready');
INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, prompt_id, status, images)
  VALUES (10, 1, 'old prompt', '18609859', 'done', '["https://s3/a"]');
"""


@pytest.fixture
def database(supabase):
    """A scratch database on the same server, dropped afterwards."""
    name = f"astria_scratch_{secrets.token_hex(4)}"
    yield name
    supabase.drop_database(name)


def test_migrations_apply_to_an_empty_database(supabase, database):
    supabase.new_database(database)
    tables = supabase.psql(
        "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
        "WHERE schemaname = 'public'",
        database=database,
    )
    assert tables == (
        "conversation_states,credit_ledger,likes,marks,orders,payments,photoshoots,"
        "processed_updates,"
        "signup_grants,"
        "subscriptions,telegram_models,"
        "telegram_prompts,telegram_users"
    )
    rls = supabase.psql(
        "SELECT bool_and(rowsecurity) FROM pg_tables WHERE schemaname = 'public'", database=database
    )
    assert rls == "t"


def test_migrations_keep_an_existing_projects_data(supabase, database):
    supabase.new_database(database, migrate=False)
    supabase.psql(SEED, database=database)
    supabase.apply_migrations(database)
    ledger = supabase.psql(
        "SELECT telegram_user_id || ':' || delta || ':' || reason FROM credit_ledger",
        database=database,
    )
    assert ledger == "10:5:opening_balance"  # balances match the ledger from day one
    nullable = supabase.psql(
        "SELECT is_nullable FROM information_schema.columns WHERE "
        "table_name = 'telegram_models' AND column_name = 'model_id'",
        database=database,
    )
    assert nullable == "YES"
    old = supabase.psql(
        "SELECT prompt || '|' || images::text FROM telegram_prompts", database=database
    )
    assert old == 'old prompt|["https://s3/a"]'


def test_the_marks_kept_among_chat_states_move_to_their_own_table(supabase, database):
    supabase.new_database(database, migrate=False)
    supabase.apply_migrations(database, until="20261207010000_marks.sql")
    supabase.psql(
        "INSERT INTO telegram_users (telegram_id) VALUES (4242); "
        "INSERT INTO conversation_states (key, state, data) VALUES "
        "('slow:Model:7:4242', 'told', '{}'), "
        "('inspect:AgAD-x:4242', 'inspected', '{\"problems\": [\"blurry\"]}'), "
        "('inspect:AgAD-y:999', 'inspected', '{}'), "  # a user deleted meanwhile: dropped
        "('4242:4242:1', 'TrainStates:photos', '{}')",
        database=database,
    )
    supabase.apply_migrations(database, since="20261207010000_marks.sql")
    marks = supabase.psql(
        "SELECT string_agg(kind || '|' || key || '|' || telegram_user_id || '|' || data::text, "
        "',' ORDER BY kind) FROM marks",
        database=database,
    )
    assert marks == (
        'photo_verdict|AgAD-x:4242|4242|{"problems": ["blurry"]},slow_notice|Model:7:4242|4242|{}'
    )
    states = supabase.psql(
        "SELECT string_agg(key, ',') FROM conversation_states", database=database
    )
    assert states == "4242:4242:1"  # the chat's own state stays


def test_anon_and_authenticated_keys_see_and_do_nothing(supabase):
    supabase.reset()
    store = SupabaseStore(supabase.url, supabase.service_role_key)
    store.ensure_user(
        1,
        username="a",
        first_name="A",
        last_name=None,
        language_code="en",
        free_credits=3,
        signup_key="k1",
    )
    store.close()
    for role in ("anon", "authenticated"):
        key = sign_jwt(supabase.jwt_secret, role)
        headers = {"apikey": key, "Authorization": f"Bearer {key}"}
        rest = f"{supabase.url}/rest/v1"
        for table in ("telegram_users", "credit_ledger"):  # not even an empty list: refused
            read = requests.get(f"{rest}/{table}", headers=headers, timeout=5)
            assert read.status_code in (401, 403) and read.json()["code"] == "42501", read.text
        spend = requests.post(
            f"{rest}/rpc/grant_credits",
            headers=headers,
            timeout=5,
            json={"p_telegram_id": 1, "p_amount": 100, "p_reason": "x", "p_ref": role},
        )
        assert spend.status_code in (401, 403, 404), spend.text
        write = requests.patch(
            f"{rest}/telegram_users?telegram_id=eq.1",
            headers=headers,
            json={"credits": 1000},
            timeout=5,
        )
        assert write.status_code in (200, 204, 401, 403)
    assert supabase.psql("SELECT credits FROM telegram_users WHERE telegram_id = 1") == "3"


def test_the_client_roles_hold_no_privilege_at_all_on_the_bots_objects(supabase):
    """RLS hides rows, but not TRUNCATE, TRIGGER, REFERENCES or sequences: revoked too."""
    supabase.reset()
    for role in ("anon", "authenticated"):
        with pytest.raises(RuntimeError, match="permission denied"):
            supabase.psql(f"SET ROLE {role}; TRUNCATE telegram_users CASCADE")
        held = supabase.psql(
            f"""SELECT string_agg(what, ', ') FROM (
              SELECT c.relname || ':' || p.privilege AS what
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              CROSS JOIN unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE',
                                      'REFERENCES','TRIGGER']) AS p(privilege)
              WHERE n.nspname = 'public' AND c.relkind = 'r'
                AND has_table_privilege('{role}', c.oid, p.privilege)
              UNION ALL
              SELECT c.relname || ':' || p.privilege
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              CROSS JOIN unnest(ARRAY['USAGE','SELECT','UPDATE']) AS p(privilege)
              WHERE n.nspname = 'public' AND c.relkind = 'S'
                AND has_sequence_privilege('{role}', c.oid, p.privilege)
              UNION ALL
              SELECT p.oid::regprocedure::text || ':EXECUTE'
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'public' AND has_function_privilege('{role}', p.oid, 'EXECUTE')
            ) held"""
        )
        assert held == "", f"{role} holds {held}"
    assert supabase.psql("SELECT COUNT(*) FROM telegram_users") == "0"


def test_postgrest_failures_become_store_errors(supabase):
    forged = SupabaseStore(
        supabase.url, sign_jwt("another-secret-of-enough-length-0123456789", "service_role")
    )
    with pytest.raises(StoreError, match="Supabase refused"):
        forged.get_user(1)
    forged.close()
    gone = SupabaseStore("http://127.0.0.1:9", supabase.service_role_key)
    with pytest.raises(StoreError, match="unreachable"):
        gone.ping()
    gone.close()


def test_round_trips_per_webhook_update(make_live, telegram, supabase):
    supabase.reset()
    live = make_live(SUPABASE_URL=supabase.url, SUPABASE_SERVICE_ROLE_KEY=supabase.service_role_key)
    calls, marks = [], []
    http = live.rt.store._http
    send = http.send

    def counting(request, **kwargs):
        call = f"{request.method} {request.url.path}"
        # the done marks of updates that wrote nothing are made together, on the thread that
        # renews this process's claims: not on the request path; nor are the jobs an update
        # queues (the photo check), which may run before its answer is out
        thread = threading.current_thread().name
        if thread == "leases":
            marks.append(call)
        elif not thread.startswith(("job", "optional")):
            calls.append(call)
        return send(request, **kwargs)

    http.send = counting

    def trips(update, answered: bool = True) -> list[str]:
        calls.clear()
        assert live.post_update(update, answered=answered).status_code == 200
        return list(calls)

    trips(f.message(77, "/start"))
    # a plain command: one function call claims the update, makes sure of the user and reads
    # their chat state (begin_update)
    assert trips(f.message(77, "/help")) == ["POST /rest/v1/rpc/begin_update"]
    assert trips(f.message(77, "/credits")) == ["POST /rest/v1/rpc/begin_update"]
    assert trips(f.message(77, "hello")) == ["POST /rest/v1/rpc/begin_update"]
    # /train writes the flow's state: with the update's done mark, in one call
    assert trips(f.message(77, "/train")) == [
        "POST /rest/v1/rpc/begin_update",
        "POST /rest/v1/rpc/finish_update",
    ]
    telegram.add_file("rt-0", f.jpeg())
    photo = trips(f.photo(77, "rt-0"))
    assert len(photo) == 2, photo  # … and the photo written into the chat state
    live.idle()  # the photo's check runs as a job (it keeps its verdict): not the update's cost
    again = f.message(77, "/help")
    helps = len(telegram.calls_to("sendMessage", 77))
    assert len(trips(again, answered=False)) == 1  # Telegram never got this answer …
    # … so it delivers the update again: the one call finds it done, with its answer
    assert len(trips(again)) == 1 and len(telegram.calls_to("sendMessage", 77)) == helps + 1
    eventually(lambda: supabase.psql(
        "SELECT COUNT(*) FROM processed_updates WHERE done_at IS NULL") == "0")  # fmt: skip
    # the done marks of the four updates that wrote nothing took at most four calls, off the
    # request path (together when updates come close)
    assert 1 <= marks.count("POST /rest/v1/rpc/updates_done") <= 4, marks
