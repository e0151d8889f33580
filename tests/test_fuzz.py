"""Thousands of generated bodies against the webhook and the Mini App API. Each example fails
when the app answered 5xx, a handler raised (anything logged at ERROR) or an admin alert fired,
and valid generate bodies must reach the service and start a generation.

FUZZ_EXAMPLES (default 300) sets the number of examples per target; the soak (`make soak`)
runs 5,000."""

from __future__ import annotations

import io
import itertools
import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.live import WEBHOOK_SECRET
from tests.support import init_data, make_model

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
users = st.fixed_dictionaries(
    {"id": st.integers(1, 2**40), "is_bot": st.booleans(), "first_name": st.text(max_size=20)},
    optional={"language_code": st.sampled_from(["en", "ru", "", "zz"])},
)
chats = st.fixed_dictionaries(
    {"id": st.integers(1, 2**40), "type": st.sampled_from(["private", "group", "channel"])}
)
# what no Telegram client sends, but a forger or a broken proxy may: no chat, a chat without an
# id or with an id that is not an integer (refused before the handlers); one message in ten
odd_chats = st.none() | json_values | st.fixed_dictionaries({}, optional={"id": json_values})
messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(0, 2**31),
        "date": st.integers(0, 2**31),
        "chat": st.integers(0, 9).flatmap(lambda n: odd_chats if n == 0 else chats),
    },
    optional={
        "from": users,
        "text": st.text(max_size=200)
        | st.sampled_from(
            ["/start", "/train", "/generate", "/models", "/credits", "/cancel", "/delete", "/help"]
        ),
        "photo": st.lists(
            st.fixed_dictionaries(
                {
                    "file_id": st.text(max_size=10),
                    "file_unique_id": st.text(max_size=10),
                    "width": st.integers(0, 5000),
                    "height": st.integers(0, 5000),
                }
            ),
            max_size=3,
        ),
        "document": st.fixed_dictionaries(
            {"file_id": st.text(max_size=10), "file_unique_id": st.text(max_size=10)},
            optional={"mime_type": st.text(max_size=12), "file_size": st.integers(0, 2**35)},
        ),
        "media_group_id": st.text(max_size=5),
    },
)
callbacks = st.fixed_dictionaries(
    {"id": st.text(max_size=8), "from": users, "chat_instance": st.text(max_size=5)},
    optional={
        "data": st.text(max_size=20)
        | st.sampled_from(["cls:man", "cls:x", "gen:1", "gen:-1", "gen:abc", "train", "del:no"]),
        "message": messages,
    },
)
updates = st.fixed_dictionaries(
    {"update_id": st.integers(-(2**63), 2**63 - 1) | st.integers(-(2**70), 2**70)},
    optional={
        "message": messages,
        "callback_query": callbacks,
        "edited_message": messages,
        "channel_post": messages,
        "my_chat_member": json_values,
        "poll": json_values,
    },
)


@pytest.fixture
def client(live):
    return live.app.test_client()


class Clean:
    """Asserts an example left no trace of trouble: no 5xx, nothing logged at ERROR (a handler
    that raised, a failed job) and no admin alert (alerts log at ERROR too)."""

    def __init__(self, incidents) -> None:
        self.incidents = incidents

    def __enter__(self):
        self.seen = len(self.incidents.records)
        return self

    def __exit__(self, *exc) -> None:
        new = self.incidents.lines()[self.seen :]
        del self.incidents.records[self.seen :]  # reported here, with the example, not again
        assert not new, f"errors were logged: {new}"

    def check(self, response) -> None:
        """The response is not a server error."""
        assert response.status_code < 500, response.get_data()[:300]


_fresh_update_ids = itertools.count(10**12)


@FUZZ
@given(body=updates | json_values)
def test_the_webhook_never_crashes(client, incidents, body):
    if isinstance(body, dict) and type(body.get("update_id")) is int and body["update_id"] < 2**63:
        # a fresh id for each example: Hypothesis draws update_id 0 again and again, and every
        # repeat would be skipped as a redelivery without ever reaching the handlers
        body = {**body, "update_id": next(_fresh_update_ids)}
    with Clean(incidents) as clean:
        response = client.post(
            "/api/bot/webhook",
            data=json.dumps(body),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                "Content-Type": "application/json",
            },
        )
        clean.check(response)


prompts = st.text(
    st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=600
).filter(str.strip)


@pytest.fixture
def ready_users(live, telegram):
    """Users with a ready model and credits to spare, a fresh one per valid body (the API
    allows each user 10 writes a minute). Their models point at one tune the sandbox trained."""
    from tests.support import trained_model

    tune_id = trained_model(live, telegram, 4_000_000).tune_id
    store = live.rt.store

    def make(n: int) -> tuple[int, int]:
        user_id = 4_000_001 + n
        store.ensure_user(
            user_id, username=None, first_name="F", last_name=None, language_code="en",
            free_credits=0, signup_key=f"fuzz-{n}",
        )  # fmt: skip
        store.grant(user_id, 5, "grant", f"fuzz-{n}")
        model = make_model(store, user_id, ready_as=tune_id)
        return user_id, model.id

    return (make(n) for n in itertools.count())


@FUZZ
@given(
    user=st.integers(1, 2**40),
    body=json_values | st.fixed_dictionaries({"model_id": json_values, "prompt": json_values}),
    valid=st.none() | prompts,
    # fields we do not know (style and hd are known: they come valid, below)
    extra=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in ("style", "hd")), json_values, max_size=2
    ),
    style=st.none() | st.sampled_from(["headshot", "noir", "superhero"]),
    hd=st.none() | st.booleans(),
)
def test_generate_never_crashes_and_valid_bodies_start_a_generation(
    client, incidents, ready_users, reached, user, body, valid, extra, style, hd
):
    if valid is not None:  # a valid body, perhaps with fields we do not know
        user, model_id = next(ready_users)
        body = {**extra, "model_id": model_id, "prompt": valid}
        body.update({k: v for k, v in (("style", style), ("hd", hd)) if v is not None})
    with Clean(incidents) as clean:
        response = client.post(
            "/api/bot/generate",
            data=json.dumps(body),
            headers={
                "Authorization": f"tma {init_data(user)}",
                "Content-Type": "application/json",
            },
        )
        clean.check(response)
    if valid is not None:
        assert response.status_code == 201, response.get_data()[:300]
        generation = response.get_json()["generation"]
        assert generation["model_id"] == model_id and generation["prompt"] == valid.strip()
        reached.append(generation["id"])
    else:
        assert 400 <= response.status_code < 500


@pytest.fixture(scope="module")
def reached():
    """The generations valid fuzz bodies started; enough of them must have been generated."""
    started: list[int] = []
    yield started
    assert len(started) >= EXAMPLES // 10, f"only {len(started)} valid bodies were generated"


@FUZZ
@given(
    user=st.integers(1, 2**40),
    name=st.text(max_size=60),
    class_name=st.text(max_size=10),
    files=st.lists(st.binary(max_size=64), max_size=5),
    path=st.sampled_from(
        [
            "/api/bot/models/1",
            "/api/bot/models/-5/prompts",
            "/api/bot/models/1/prompts?before=x&limit=-9",
            "/api/bot/me",
        ]
    ),
)
def test_the_rest_of_the_api_never_crashes(client, incidents, user, name, class_name, files, path):
    auth = {"Authorization": f"tma {init_data(user)}"}
    data = {
        "name": name,
        "class_name": class_name,
        "images": [(io.BytesIO(b), f"{n}.jpg") for n, b in enumerate(files)],
    }
    with Clean(incidents) as clean:
        clean.check(
            client.post(
                "/api/bot/train-model", data=data, headers=auth, content_type="multipart/form-data"
            )
        )
        clean.check(client.get(path, headers=auth))
        # a forged initData (header values cannot carry raw newlines, so it is percent-encoded)
        clean.check(client.get(path, headers={"Authorization": f"tma {quote(name, safe='=&')}"}))
