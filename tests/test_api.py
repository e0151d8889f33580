"""The Mini App's JSON API: initData auth on every route, the user's own data only, bad bodies."""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode

import pytest

from tests import factories as f, signers
from tests.live import TOKEN, LiveApp
from tests.support import call, good_photos, init_data, make_model, upload
from webapp.security import InitDataError, validate_init_data

ROOT = Path(__file__).resolve().parent.parent
# Published by aiogram (tests/test_utils/test_web_app.py) for the token "42:TEST".
AIOGRAM_VECTOR = (
    "auth_date=1650385342&user=%7B%22id%22%3A42%2C%22first_name%22%3A%22Test%22%7D"
    "&query_id=test&hash=46d2ea5e32911ec8d30999b56247654460c0d20949b6277af519e76271182803"
)
ROUTES = [
    ("GET", "/api/bot/me"),
    ("GET", "/api/bot/models"),
    ("GET", "/api/bot/models/1"),
    ("GET", "/api/bot/models/1/prompts"),
    ("POST", "/api/bot/generate"),
    ("POST", "/api/bot/train-model"),
]


def test_the_published_vector_validates_and_tampering_does_not():
    user = validate_init_data(AIOGRAM_VECTOR, "42:TEST", max_age=10**10)
    assert user.id == 42 and user.first_name == "Test"
    for raw, token in [
        (AIOGRAM_VECTOR, "42:INVALID"),
        (AIOGRAM_VECTOR.replace("query_id=test", "query_id=tesT"), "42:TEST"),
        (AIOGRAM_VECTOR.rsplit("&hash=", 1)[0] + "&hash=test", "42:TEST"),
        (AIOGRAM_VECTOR.rsplit("&hash=", 1)[0], "42:TEST"),
        (AIOGRAM_VECTOR.rsplit("&hash=", 1)[0] + "&hash=%C3%A9%C3%A9%C3%A9", "42:TEST"),
        (AIOGRAM_VECTOR + "&hash=0", "42:TEST"),
        ("", "42:TEST"),
        ("test&foo=bar=baz", "42:TEST"),
    ]:
        with pytest.raises(InitDataError):
            validate_init_data(raw, token, max_age=10**10)
    with pytest.raises(InitDataError, match="too old"):
        validate_init_data(AIOGRAM_VECTOR, "42:TEST", max_age=86400)


def test_a_signature_field_stays_in_the_checked_data():
    raw = init_data(signature="abc")  # Bot API 8.0 adds `signature`; it is signed like the rest
    assert validate_init_data(raw, TOKEN, 60).id == 6001


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_fresh_genuine_init_data(live, method, path):
    for auth in (
        "",
        "Bearer x",
        "tma ",
        "tma dev",
        f"tma {init_data(token='999:OTHER')}",
        f"tma {init_data(age=86400 + 60)}",
        f"tma {init_data()}x",
    ):
        response = call(live, method, path, auth=auth)
        assert response.status_code == 401, (auth, response.text)
        assert response.json()["error"]["code"] == "unauthorized"
    assert live.rt.store.get_user(6001) is None


def test_me_registers_and_shows_credits_prices_and_limits(live):
    body = call(live, "GET", "/api/bot/me").json()
    assert body["credits"] == 3 and body["user"]["id"] == 6001
    assert body["prices"] == {"train": 1, "generate": 1, "images_per_generation": 4, "hd": 1}
    assert body["model_types"] == [{"type": "lora", "price": 1}, {"type": "faceid", "price": 1}]
    assert body["limits"] == {
        "photos": 4,
        "min_side": 512,
        "upload_side": 2048,
        "name_max": 40,
        "prompt_max": 600,
        "classes": ["man", "woman", "person", "boy", "girl", "dog", "cat"],
    }
    assert body["dev_mode"] is False


def test_init_data_from_an_independent_signer_is_accepted_in_telegrams_current_shape(live):
    raw = signers.telegram_init_data(TOKEN, 6101, language="ru", start_param="m_42")
    assert {"query_id", "chat_instance", "chat_type", "signature", "hash"} <= set(
        dict(parse_qsl(raw))
    )
    body = call(live, "GET", "/api/bot/me", auth=f"tma {raw}").json()
    assert body["user"] == {"id": 6101, "first_name": "Анна", "language_code": "ru"}


def test_independently_signed_init_data_is_refused_for_another_bot_or_with_any_field_changed(live):
    refused = [signers.telegram_init_data("654321:ANOTHER-bot-token", 6102)]
    raw = signers.telegram_init_data(TOKEN, 6102, start_param="new")
    pairs = parse_qsl(raw, keep_blank_values=True)
    for n, (key, value) in enumerate(pairs):
        changed = value[:-1] + ("0" if value[-1:] != "0" else "1")
        refused.append(urlencode(pairs[:n] + [(key, changed)] + pairs[n + 1 :]))  # one value
        if key != "hash":
            refused.append(urlencode(pairs[:n] + pairs[n + 1 :]))  # one field left out
    refused.append(raw + "&is_admin=true")  # one field added
    for forged in refused:
        response = call(live, "GET", "/api/bot/me", auth=f"tma {forged}")
        assert response.status_code == 401, forged
    assert live.rt.store.get_user(6102) is None
    assert call(live, "GET", "/api/bot/me", auth=f"tma {raw}").status_code == 200


def test_train_model_refuses_bad_bodies_and_charges_nothing(live):
    cases = [
        (good_photos(3), "Me", "man", 400, "bad_request"),
        (good_photos(5), "Me", "man", 400, "bad_request"),
        (good_photos(3) + [b"%PDF-1.4 not an image"], "Me", "man", 415, "unsupported_media_type"),
        (good_photos(3) + [f.jpeg(200, 200)], "Me", "man", 422, "invalid_input"),
        (good_photos(), "   ", "man", 422, "invalid_input"),
        (good_photos(), "x" * 41, "man", 422, "invalid_input"),
        (good_photos(), "Me", "dragon", 422, "invalid_input"),
    ]
    for photos, name, class_name, status, code in cases:
        response = upload(live, photos, name, class_name)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
            name,
            class_name,
            response.text,
        )
    assert upload(live, good_photos(3) + [f.jpeg(200, 200)]).json()["error"]["message"] == (
        "Photo 4 is 200×200 px; each side must be at least 512 px."
    )
    assert live.rt.store.list_models(6001) == []
    assert live.rt.store.get_user(6001).credits == 3


def test_a_photo_over_the_size_limit_is_413(live):
    huge = b"\xff\xd8" + b"0" * (21 * 1024 * 1024)
    response = upload(live, good_photos(3) + [huge])
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_train_generate_and_browse_through_the_api(live, telegram):
    created = upload(live, good_photos(), name="Api model", class_name="woman")
    assert created.status_code == 201, created.text
    model = created.json()["model"]
    assert created.json()["credits"] == 2 and model["status"] == "training"
    telegram.wait_text(6001, "Your model “Api model” is ready!")  # the chat is told either way
    assert call(live, "GET", f"/api/bot/models/{model['id']}").json()["model"]["status"] == "ready"
    # the chat's /models lists a model trained in the Mini App
    live.post_update(f.message(6001, "/models"))
    assert "✅ Api model (woman) — ready" in telegram.texts(6001)[-1]

    for prompt, status in (("", 422), ("   ", 422), ("y" * 601, 422), (None, 422)):
        response = call(
            live, "POST", "/api/bot/generate", {"model_id": model["id"], "prompt": prompt}
        )
        assert response.status_code == status, response.text
    assert (
        call(live, "POST", "/api/bot/generate", {"model_id": "1", "prompt": "x"}).status_code == 422
    )
    assert call(live, "POST", "/api/bot/generate", data=None).status_code == 400
    generated = call(
        live, "POST", "/api/bot/generate", {"model_id": model["id"], "prompt": "a knight"}
    )
    assert generated.status_code == 201 and generated.json()["credits"] == 1
    telegram.wait_text(6001, "Want more pictures with “Api model”?")
    page = call(live, "GET", f"/api/bot/models/{model['id']}/prompts").json()
    (generation,) = page["generations"]
    assert generation["status"] == "done" and len(generation["images"]) == 4
    assert page["next_before"] is None

    # nobody else sees or uses it
    assert call(live, "GET", f"/api/bot/models/{model['id']}", user_id=6002).status_code == 404
    assert (
        call(live, "GET", f"/api/bot/models/{model['id']}/prompts", user_id=6002).status_code == 404
    )
    other = call(
        live, "POST", "/api/bot/generate", {"model_id": model["id"], "prompt": "x"}, user_id=6002
    )
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert call(live, "GET", "/api/bot/models", user_id=6002).json() == {"models": []}

    # out of credits: a clear 409, nothing charged
    call(live, "POST", "/api/bot/generate", {"model_id": model["id"], "prompt": "again"})
    poor = call(live, "POST", "/api/bot/generate", {"model_id": model["id"], "prompt": "more"})
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "not_enough_credits"
    assert live.rt.store.get_user(6001).credits == 0
    assert upload(live, good_photos()).status_code == 409


def test_galleries_are_paginated_newest_first(live):
    store = live.rt.store
    live.rt.services.accounts.register(6001)
    model = make_model(store, 6001, ready_as=1)
    ids = [
        store.create_generation(6001, model_id=model.id, prompt=f"p{n}", num_images=4, cost=0)[0].id
        for n in range(35)
    ]
    first = call(live, "GET", f"/api/bot/models/{model.id}/prompts").json()
    assert [g["id"] for g in first["generations"]] == ids[::-1][:30]
    second = call(
        live, "GET", f"/api/bot/models/{model.id}/prompts", params={"before": first["next_before"]}
    ).json()
    assert [g["id"] for g in second["generations"]] == ids[::-1][30:]
    assert second["next_before"] is None


def test_dev_mode_accepts_only_the_dev_user_signed_by_the_dev_host(tmp_path):
    dev = LiveApp(tmp_path, telegram=None)
    try:
        host = dev.http.get(f"{dev.url}/app/dev?lang=ru", timeout=10).text
        fragment = html.unescape(host.split('src="/app#', 1)[1].split('"', 1)[0])
        launch = parse_qs(fragment)  # as Telegram's script reads it
        raw = launch["tgWebAppData"][0]
        ok = call(dev, "GET", "/api/bot/me", auth=f"tma {raw}")
        assert ok.status_code == 200 and ok.json()["dev_mode"] is True
        assert ok.json()["user"] == {"id": 1, "first_name": "Dev", "language_code": "ru"}
        for auth in ("tma dev", f"tma {init_data()}", f"tma {raw.replace('Dev', 'Bob')}"):
            assert call(dev, "GET", "/api/bot/me", auth=auth).status_code == 401
        page = dev.http.get(f"{dev.url}/app", timeout=10).text
        assert "/static/vendor/telegram-web-app.js" in page  # Telegram's script, served locally
    finally:
        dev.close()


def test_the_dev_host_exists_only_in_dev_mode(live):
    assert live.http.get(f"{live.url}/app/dev", timeout=10).status_code == 404


def test_the_page_loads_telegrams_script_first_and_stays_small(live):
    page = live.http.get(f"{live.url}/app", timeout=10).text
    assert '<script src="https://telegram.org/js/telegram-web-app.js"></script>' in page
    assert page.index("telegram-web-app.js") < page.index("app/main.js")
    static = ROOT / "static"
    ours = [*(static / "app").glob("*.js"), static / "app.css"]
    for path in ours:  # every module the page can load is served
        assert live.http.get(f"{live.url}/static/{path.relative_to(static)}").status_code == 200
    # Raw bytes, no build step. 60 KB until issue 22 added the photoshoot screens (loaded only
    # when opened), the order bars and likes: 80 KB now. The first render's speed is measured
    # by tests/bench/miniapp_render.py (bar: 500 ms).
    assert sum(path.stat().st_size for path in ours) < 80 * 1024
    lazy = static / "app" / "shoots.js"
    assert sum(path.stat().st_size for path in ours if path != lazy) < 64 * 1024


def test_the_vendored_script_is_telegrams_own_from_the_npm_package():
    """static/vendor/telegram-web-app.js (dev mode, browser tests) is byte for byte the file
    @twa-dev/sdk ships, which `make tools` installs."""
    shipped = ROOT / ".tools/node_modules/@twa-dev/sdk/dist/telegram-web-apps.js"
    if not shipped.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("@twa-dev/sdk is not installed (make tools) — CI must check this")
        pytest.skip("@twa-dev/sdk is not installed (make tools)")
    assert (ROOT / "static/vendor/telegram-web-app.js").read_bytes() == shipped.read_bytes()


def test_a_failed_model_says_why_in_the_users_language(live):
    raw = signers.telegram_init_data(TOKEN, 6110, language="ru")
    call(live, "GET", "/api/bot/me", auth=f"tma {raw}")
    store = live.rt.store
    for error in ("photos_lost", "astria: no face found"):
        model = make_model(store, 6110)
        store.fail_model(model.id, error, 0)
    texts = [m["error_text"] for m in call(live, "GET", "/api/bot/models", auth=f"tma {raw}")
             .json()["models"]]  # fmt: skip
    assert texts == [
        "Сервис ИИ отклонил запрос (no face found).",
        "Фото потерялись при перезапуске сервера. Загрузите их заново.",
    ]
