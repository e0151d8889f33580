"""Thousands of generated bodies against the webhook and the Mini App API: never a 500.

FUZZ_EXAMPLES (default 1000) sets the number of examples per target."""

from __future__ import annotations

import io
import json
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.live import WEBHOOK_SECRET
from tests.test_api import init_data

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
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
messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(0, 2**31),
        "date": st.integers(0, 2**31),
        "chat": st.fixed_dictionaries(
            {"id": st.integers(1, 2**40), "type": st.sampled_from(["private", "group", "channel"])}
        ),
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
    {"update_id": st.integers(-(2**40), 2**40)},
    optional={
        "message": messages,
        "callback_query": callbacks,
        "edited_message": messages,
        "poll": json_values,
    },
)


@pytest.fixture
def client(live):
    return live.app.test_client()


def no_crash(response) -> None:
    assert response.status_code < 500 or response.status_code == 503, response.get_data()[:300]


@FUZZ
@given(body=updates | json_values)
def test_the_webhook_never_answers_500(client, body):
    response = client.post(
        "/api/bot/webhook",
        data=json.dumps(body),
        headers={
            "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
            "Content-Type": "application/json",
        },
    )
    no_crash(response)


@FUZZ
@given(
    user=st.integers(1, 2**40),
    body=json_values | st.fixed_dictionaries({"model_id": json_values, "prompt": json_values}),
)
def test_generate_never_answers_500(client, user, body):
    response = client.post(
        "/api/bot/generate",
        data=json.dumps(body),
        headers={"Authorization": f"tma {init_data(user)}", "Content-Type": "application/json"},
    )
    no_crash(response)


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
def test_the_rest_of_the_api_never_answers_500(client, user, name, class_name, files, path):
    auth = {"Authorization": f"tma {init_data(user)}"}
    data = {
        "name": name,
        "class_name": class_name,
        "images": [(io.BytesIO(b), f"{n}.jpg") for n, b in enumerate(files)],
    }
    no_crash(
        client.post(
            "/api/bot/train-model", data=data, headers=auth, content_type="multipart/form-data"
        )
    )
    no_crash(client.get(path, headers=auth))
    # a forged initData (header values cannot carry raw newlines, so it is percent-encoded)
    no_crash(client.get(path, headers={"Authorization": f"tma {quote(name, safe='=&')}"}))
