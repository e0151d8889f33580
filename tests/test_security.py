"""The attacks a security review of the deployed bot found, one test per finding: each attack
is reproduced and seen refused (status, nothing fetched, nothing changed, no alert: the
autouse `incidents` guard fails a test that logged an error or fired an alert)."""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import stat
import threading
import time
from urllib.parse import unquote

import pytest
import requests
from PIL import Image

from tests import factories as f
from tests.live import TOKEN, WEBHOOK_SECRET, LiveApp
from tests.support import (
    Recorder,
    call,
    free_port,
    good_photos,
    make_model,
    redis_url,
    sandbox,
    sandbox_tunes,
    trained_model,
    upload,
)
from webapp.alerts import Alerts
from webapp.astria import Photo
from webapp.backoff import redis_client
from webapp.records import InvalidInput, StoreError
from webapp.security import callback_token
from webapp.settings import Settings, SettingsError
from webapp.store.supabase import SupabaseStore

USER = 9500


@pytest.fixture
def internal():
    server = Recorder(body=f.jpeg())
    yield server
    server.close()


def tune_files(callback: str, title: str = "t-1", branch: str = "fast") -> list:
    fields = [("title", title), ("name", "man"), ("callback", callback), ("branch", branch)]
    files = [(f"tune[{k}]", (None, v)) for k, v in fields]
    return files + [("tune[images][]", (f"{n}.jpg", f.jpeg(), "image/jpeg")) for n in range(4)]


# 1 ------------------------------------------------------------------------------------------------


def test_1_the_sandbox_is_never_public_and_never_hands_out_callback_urls(live, telegram):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with pytest.raises(SettingsError, match="ASTRIA_SANDBOX=1"):
        Settings.from_env(env)  # a real bot without an Astria key: refuses to start
    assert Settings.from_env({**env, "ASTRIA_SANDBOX": "1"}).sandbox

    model = trained_model(live, telegram, USER)
    live.post_update(f.callback(USER, f"gen:{model.id}"))
    live.post_update(f.message(USER, "a castle"))
    telegram.wait_text(USER, "Want more pictures")
    (generation,) = live.rt.store.list_generations(USER)
    paths = [f"/tunes/{model.tune_id}", f"/tunes/1504944/prompts/{generation.prompt_id}"]
    for path in paths:
        for key in ("x", "sandbox", "", live.rt.settings.secret_key):
            assert sandbox(live, "GET", path, key=key).status_code == 401
        body = sandbox(live, "GET", path).text  # even the app's own client sees no callback
        assert "callback" not in body and "token" not in body.replace('"token":"ohwx"', "")
    image = generation.images[0]
    assert requests.get(image, timeout=10).status_code == 200  # public, as on S3, but only
    forged = image.replace(image.split("/")[-2], "0" * 24)  # by its unguessable address
    assert requests.get(forged, timeout=10).status_code == 404


# 2 ------------------------------------------------------------------------------------------------


def test_2_the_sandbox_calls_back_nowhere_else_and_follows_no_redirect(tmp_path, internal):
    redirector = Recorder(status=307, headers={"Location": f"{internal.url}/admin"})
    host = LiveApp(tmp_path, None, PUBLIC_URL=redirector.url)  # its callbacks go there
    try:
        elsewhere = sandbox(host, "POST", "/tunes", files=tune_files(f"{internal.url}/x"))
        assert elsewhere.status_code == 422
        callback = f"{redirector.url}/api/astria/callback/tune/1?token=abc"
        created = sandbox(host, "POST", "/tunes", files=tune_files(callback, title="t-2"))
        assert created.status_code == 201
        waited = threading.Event()
        for _ in range(50):  # the fast branch is done in about a second
            if redirector.hits:
                break
            waited.wait(0.1)
        waited.wait(0.5)  # time to follow the redirect, were it followed
        assert redirector.hits == ["/api/astria/callback/tune/1"]
        assert internal.hits == []  # the redirect was not followed
    finally:
        host.close()
        redirector.close()


# 3 ------------------------------------------------------------------------------------------------


def test_3_fault_injection_exists_only_for_the_test_suite_and_only_with_the_key(make_live):
    plain = make_live(ASTRIA_SANDBOX_FAULTS="")
    spec = {"kind": "http", "path": "(1+)+$", "status": 500}
    assert sandbox(plain, "POST", "/_faults", json=spec).status_code == 404
    testing = make_live()  # tests/live.py turns it on
    assert sandbox(testing, "POST", "/_faults", key="x", json=spec).status_code == 401


# 4 ------------------------------------------------------------------------------------------------


def test_4_image_urls_off_astrias_hosts_are_refused_and_never_fetched(live, telegram, internal):
    model = trained_model(live, telegram, USER)
    generation, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="x", num_images=4, cost=1
    )
    telegram.refuse_urls = True  # so the app would have to fetch them itself
    body = {
        "prompt": {"id": 71, "images": [f"{internal.url}/latest/meta-data/{n}" for n in range(4)]}
    }
    assert live.callback("prompt", generation.id, body).json()["outcome"] == "failed"
    live.idle()
    assert internal.hits == []
    assert live.rt.store.get_generation(generation.id).status == "failed"
    assert live.rt.store.get_user(USER).credits == 2  # 3 - training + refund
    assert not telegram.calls_to("sendMediaGroup", USER)


def test_4_an_allowed_host_on_a_private_address_is_not_fetched_either(make_live, telegram):
    live = make_live(ASTRIA_IMAGE_HOSTS="localhost")  # https://localhost resolves to loopback
    model = trained_model(live, telegram, USER)
    generation, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="x", num_images=2, cost=1
    )
    telegram.refuse_urls = True
    body = {"prompt": {"id": 72, "images": ["https://localhost/a.jpg", "https://localhost/b.jpg"]}}
    assert live.callback("prompt", generation.id, body).json()["outcome"] == "done"
    text = telegram.wait_text(USER, "https://localhost/a.jpg").text  # the links instead
    assert "https://localhost/b.jpg" in text


# 5 ------------------------------------------------------------------------------------------------


def test_5_deleting_ones_data_during_an_upload_deletes_the_tune_astria_makes(live, telegram):
    live.sandbox_fault(kind="delay", method="POST", path="/tunes", body="1.5")
    created = upload(live, good_photos(), user_id=USER)
    assert created.status_code == 201
    live.wait_faults_used()  # the photos are on their way to Astria
    deleted = call(live, "DELETE", "/api/bot/me", user_id=USER)
    assert deleted.status_code == 200
    live.idle()  # the upload finished after the user was gone
    db = sqlite3.connect(f"{live.rt.settings.instance_path}/astria-sandbox.sqlite3")
    assert db.execute("SELECT COUNT(*), SUM(deleted) FROM tunes").fetchone() == (1, 1)
    db.close()
    assert live.rt.store.get_user(USER) is None
    assert not [t for t in telegram.texts(USER) if "has started" in t]


# 6 ------------------------------------------------------------------------------------------------


def test_6_callback_bodies_are_read_only_with_the_token_and_within_limits(live, telegram):
    model = trained_model(live, telegram, USER)
    nested = "[" * 50_000 + "]" * 50_000
    for body in (nested, "x" * 300_000):
        response = live.http.post(
            f"{live.url}/api/astria/callback/tune/{model.id}", data=body, timeout=30
        )
        assert response.status_code == 403  # no token: the body is not even read
    url = f"{live.url}/api/astria/callback/tune/{model.id}"
    token = {"token": callback_token(live.rt.settings.secret_key, "tune", model.id)}
    assert live.http.post(url, params=token, data=nested, timeout=30).status_code == 400
    deep = json.dumps({"tune": {"id": 1, "x": [[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}})
    assert live.http.post(url, params=token, data=deep, timeout=30).status_code == 400
    huge = live.http.post(url, params=token, data=b"{" + b" " * 60_000_000 + b"}", timeout=60)
    assert huge.status_code == 413
    assert live.rt.store.get_model(model.id).status == "ready"


# 7 ------------------------------------------------------------------------------------------------


def test_7_ids_past_64_bits_and_broken_images_are_4xx(live, telegram):
    huge = "99999999999999999999999"
    assert call(live, "GET", f"/api/bot/models/{huge}").status_code == 404
    assert call(live, "GET", f"/api/bot/models/{huge}/prompts").status_code == 404
    model = trained_model(live, telegram, 6001)
    page = call(live, "GET", f"/api/bot/models/{model.id}/prompts", params={"before": huge})
    assert page.status_code == 400
    generate = call(live, "POST", "/api/bot/generate", {"model_id": int(huge), "prompt": "x"})
    assert generate.status_code == 404
    live.post_update(f.callback(6001, f"gen:{huge}"))
    telegram.wait_text(6001, "I can't find that model")
    truncated = f.jpeg(900, 900)[:3000]
    broken = upload(live, [*good_photos(3), truncated])
    assert broken.status_code == 422 and broken.json()["error"]["reason"] == "unreadable"
    assert live.rt.store.get_user(6001).credits == 2  # only the training above was charged


# 8 ------------------------------------------------------------------------------------------------


@pytest.mark.expect_errors  # every alert is logged at ERROR, as it should
def test_8_one_kind_of_error_never_mutes_another():
    sent = []
    alerts = Alerts(lambda chat, text: sent.append(text), [1])

    def fail(n):
        try:
            if n:
                raise ValueError("b")
            raise ValueError("a")  # the same type, another place: another signature
        except ValueError as exc:
            return exc

    for _ in range(50):  # an outsider triggering one error over and over
        alerts.critical("unhandled_error", "ValueError at POST /x", fail(0))
    alerts.critical("unhandled_error", "ValueError at POST /y", fail(1))
    alerts.critical("storage_unreachable", "StoreError at GET /z")
    assert sent == [
        "⚠️ unhandled_error: ValueError at POST /x",
        "⚠️ unhandled_error: ValueError at POST /y",
        "⚠️ storage_unreachable: StoreError at GET /z",
    ]


@pytest.mark.expect_errors
def test_8_with_redis_the_window_is_shared_by_every_worker():
    url = redis_url()
    sent = []
    workers = [Alerts(lambda c, t: sent.append(t), [1], redis=redis_client(url)) for _ in range(3)]
    text = f"RuntimeError at POST /{os.getpid()}-{id(sent)}"  # fresh in a shared Redis
    for worker in workers:
        worker.critical("unhandled_error", text)
    assert len(sent) == 1


# 9 ------------------------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 200).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_9_no_photo_is_decoded_for_a_user_who_cannot_pay(live, monkeypatch):
    from webapp.services import photos

    call(live, "GET", "/api/bot/me", user_id=6002)
    live.rt.store.grant(6002, -3, "grant", "spent")  # no credits left

    def decoded(*args):
        raise AssertionError("a photo was decoded")

    monkeypatch.setattr(photos, "inspect", decoded)
    monkeypatch.setattr(photos, "fingerprint", decoded)
    poor = upload(live, [png(7000, 5700)] * 4, user_id=6002)  # 4 × 40 MP
    assert poor.status_code == 409 and poor.json()["error"]["code"] == "not_enough_credits"


def test_9_photos_over_12_megapixels_are_refused_from_the_header(live, monkeypatch):
    from webapp.services import photos

    monkeypatch.setattr(photos, "fingerprint", lambda *a: pytest.fail("a big photo was decoded"))
    big = upload(live, [*good_photos(3), png(4200, 3100)])  # 13 MP
    assert big.status_code == 413 and big.json()["error"]["reason"] == "too_big"
    assert live.rt.store.get_user(6001).credits == 3


# 10 -----------------------------------------------------------------------------------------------


def test_10_the_instance_folder_databases_and_key_are_for_the_app_only(live):
    folder = live.rt.settings.instance_path
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for name in ("secret_key", "astria-sandbox.sqlite3"):
        assert stat.S_IMODE(os.stat(f"{folder}/{name}").st_mode) == 0o600, name
    database = live.rt.settings.database_url.removeprefix("sqlite:///")
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600
    # the access log: tests/test_gunicorn.py runs the README's gunicorn command and finds
    # Astria's callbacks in it without their tokens


# 12 -----------------------------------------------------------------------------------------------


def test_12_the_mini_app_page_has_a_strict_content_security_policy(live):
    page = live.http.get(f"{live.url}/app", timeout=10)
    policy = dict(
        p.strip().split(" ", 1) for p in page.headers["Content-Security-Policy"].split(";")
    )
    nonce = policy["script-src"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text  # the one inline script carries it
    assert policy["default-src"] == "'none'"
    assert policy["script-src"].startswith("'self' https://telegram.org")
    assert policy["frame-ancestors"] == "https://web.telegram.org"
    assert policy["img-src"].split() == [
        "'self'", "blob:", "data:", "https://sdbooth2-production.s3.amazonaws.com",
        "https://mp.astria.ai", live.url,
    ]  # fmt: skip
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    again = live.http.get(f"{live.url}/app", timeout=10).headers["Content-Security-Policy"]
    assert nonce not in again  # a fresh nonce each time
    # the browser side: tests/browser/test_miniapp_browser.py shows a forged image URL unloaded


# 13 -----------------------------------------------------------------------------------------------


def test_13_callbacks_with_odd_images_or_another_tune_change_nothing(live, telegram):
    live.rt.services.accounts.register(USER)
    s3 = "https://sdbooth2-production.s3.amazonaws.com"
    # a model whose tune id is not known yet accepts only the tune carrying its own title
    other = {"tune": {"id": 123, "title": "someone-else", "trained_at": "2026-01-01T00:00:00Z"}}
    bare = make_model(live.rt.store, USER, title="its-own-title")
    assert live.callback("tune", bare.id, other).status_code == 403
    mine = {"tune": {**other["tune"], "title": "its-own-title"}}
    assert live.callback("tune", bare.id, mine).json()["outcome"] == "ready"
    generation, _ = live.rt.store.create_generation(
        USER, model_id=bare.id, prompt="x", num_images=4, cost=0
    )
    as_string = {"prompt": {"id": 90, "images": f"{s3}/abcdef"}}
    assert live.callback("prompt", generation.id, as_string).status_code == 422
    many = {"prompt": {"id": 91, "images": [f"{s3}/p{n}" for n in range(50)]}}
    assert live.callback("prompt", generation.id, many).json()["outcome"] == "done"
    assert len(live.rt.store.get_generation(generation.id).images) == 8  # IMAGES_PER_PROMPT × 2


# 14 -----------------------------------------------------------------------------------------------


def scan_bomb(scans: int = 1000) -> bytes:
    """A 12 MP progressive JPEG whose last (empty) scan is repeated: about 100 KB that cost
    libjpeg some 7 seconds of CPU to decode with 1,000 scans (a minute with 10,000)."""
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (120, 80, 40)).save(out, "JPEG", progressive=True)
    content = out.getvalue()
    last_scan = content[content.rindex(b"\xff\xda") : -2]
    return content[:-2] + last_scan * scans + b"\xff\xd9"


def test_14_a_jpeg_with_thousands_of_scans_is_refused_before_any_decode(live, monkeypatch):
    from webapp.services import photos

    monkeypatch.setattr(photos, "fingerprint", lambda *a: pytest.fail("a photo was decoded"))
    bomb = scan_bomb()
    assert photos.inspect(scan_bomb(50))[:2] == (4000, 3000)  # a few scans are fine
    refused = upload(live, [*good_photos(3), bomb])
    assert refused.status_code == 422 and refused.json()["error"]["reason"] == "unreadable"
    assert refused.json()["error"]["params"] == {"photo": 4}
    assert live.rt.store.get_user(6001).credits == 3  # nothing charged
    monkeypatch.undo()
    for decode in (photos.fingerprint, lambda c: photos.for_upload(Photo("b.jpg", c))):
        with pytest.raises(InvalidInput):  # the other decoders refuse it too
            decode(bomb)


# 15 -----------------------------------------------------------------------------------------------


def test_15_our_row_ids_past_int4_are_404_or_400_on_either_store(make_live, telegram, store_env):
    live = make_live(**store_env)
    live.rt.services.accounts.register(6001)
    model = make_model(live.rt.store, 6001, ready_as=2_000_001)
    big, edge = 2**31, 2**31 - 1  # Supabase keeps our models and generations as SERIAL (int4)
    for path in (f"/api/bot/models/{big}", f"/api/bot/models/{big}/prompts"):
        assert call(live, "GET", path).status_code == 404
    assert call(live, "GET", f"/api/bot/models/{edge}").status_code == 404  # the last that fits
    gallery = f"/api/bot/models/{model.id}/prompts"
    assert call(live, "GET", gallery, params={"before": big}).status_code == 400
    assert call(live, "GET", gallery, params={"before": edge}).json()["generations"] == []
    generate = call(live, "POST", "/api/bot/generate", {"model_id": big, "prompt": "x"})
    assert generate.status_code == 404
    for kind in ("tune", "prompt"):
        assert live.callback(kind, big, {kind: {"id": 1}}).status_code == 404
    live.post_update(f.callback(6001, f"gen:{big}"))
    telegram.wait_text(6001, "I can't find that model")
    assert live.rt.store.get_user(6001).credits == 3  # nothing charged, nothing failed


def test_15_a_value_postgres_refuses_is_a_bad_input_not_a_storage_failure(supabase):
    supabase.reset()
    store = SupabaseStore(supabase.url, supabase.service_role_key)
    try:
        for read in (store.get_model, store.get_generation):
            with pytest.raises(InvalidInput):  # 22003: out of range for int4 (a 422, no alert)
                read(2**31)
    finally:
        store.close()


@pytest.mark.expect_errors  # every alert is logged at ERROR, as it should
def test_15_storage_errors_with_different_codes_are_alerted_apart():
    sent = []
    alerts = Alerts(lambda chat, text: sent.append(text), [1])

    def failed(code):
        try:
            raise StoreError("Supabase refused", code)  # one place, three errors
        except StoreError as exc:
            return exc

    for code in ("57014", "57014", "53300"):  # a statement timeout twice, too many connections
        alerts.critical("storage_unreachable", "StoreError at GET /api/bot/me", failed(code))
    assert len(sent) == 2


# 16 -----------------------------------------------------------------------------------------------


def test_16_deleting_ones_data_while_a_second_upload_is_in_flight_leaves_no_tune(
    make_live, telegram, store_env
):
    live = make_live(**store_env)
    trained_model(live, telegram, USER)  # its tune is deleted first, slowly: meanwhile
    live.sandbox_fault(kind="delay", method="DELETE", path=r"/tunes/\d+", body="2")
    live.sandbox_fault(kind="delay", method="POST", path="/tunes", body="0.5")
    assert upload(live, good_photos(), user_id=USER).status_code == 201
    # the second model's upload reaches Astria and its tune id its row, before the rows go
    assert call(live, "DELETE", "/api/bot/me", user_id=USER).json()["models"] == 2
    live.idle()
    assert [t["deleted"] for t in sandbox_tunes(live)] == [1, 1]
    assert live.rt.store.get_user(USER) is None and live.rt.store.list_models(USER) == []


# 18 -----------------------------------------------------------------------------------------------


def test_18_deleting_a_user_survives_a_malformed_stored_prompt_id(live, telegram):
    model = trained_model(live, telegram, USER)
    store = live.rt.store
    for prompt_id in ("True", "9" * 30, "3000001"):  # as a bool or a huge id once was stored
        generation, _ = store.create_generation(
            USER, model_id=model.id, prompt="x", num_images=1, cost=0
        )
        store.mark_generation_submitted(generation.id, prompt_id)
    deleted = call(live, "DELETE", "/api/bot/me", user_id=USER)
    assert deleted.status_code == 200 and deleted.json()["models"] == 1
    assert store.get_user(USER) is None and store.list_generations(USER) == []


def test_18_callbacks_naming_a_bool_or_a_huge_id_are_refused(live, telegram):
    live.rt.services.accounts.register(USER)
    bare = make_model(live.rt.store, USER, title="its-title")  # no tune id yet: any id goes
    for odd in (True, 2**64, 2**63, 1.5, "7"):
        tune = {"tune": {"id": odd, "title": "its-title", "trained_at": "2026-01-01T00:00:00Z"}}
        assert live.callback("tune", bare.id, tune).status_code == 422, odd
        prompt = {"prompt": {"id": odd, "images": ["https://mp.astria.ai/a.jpg"]}}
        generation, _ = live.rt.store.create_generation(
            USER, model_id=bare.id, prompt="x", num_images=1, cost=0
        )
        assert live.callback("prompt", generation.id, prompt).status_code == 422, odd
        assert live.rt.store.get_generation(generation.id).status == "processing"
    assert live.rt.store.get_model(bare.id).status == "training"
    assert live.rt.store.get_model(bare.id).tune_id is None


# 19 -----------------------------------------------------------------------------------------------


def test_19_image_urls_must_start_with_an_allowed_origin_written_exactly(
    make_live, telegram, internal
):
    live = make_live(ASTRIA_IMAGE_HOSTS=f"mp.astria.ai,{internal.url}")
    policy, pinned = live.rt.images, internal.url.removeprefix("http://")
    good = ["https://mp.astria.ai/a.jpg", f"{internal.url}/b.jpg", f"{live.url}/astria-sandbox/c"]
    forged = [
        "https://evil.example\\@mp.astria.ai/a.jpg",  # a browser reads host evil.example
        "https://mp.astria.ai\\@evil.example/a.jpg",
        "https://mp.astria.ai/\\evil.example/a.jpg",
        "https://user@mp.astria.ai/a.jpg",
        "https://user:pw@mp.astria.ai/a.jpg",
        f"http://user@{pinned}/b.jpg",
        "https://mp.astria.ai:443/a.jpg",
        "https://MP.astria.ai/a.jpg",
        "HTTPS://mp.astria.ai/a.jpg",
        "https://mp.astria.ai",
        "https://mp.astria.ai?x=/",
        "https://mp.astria.ai/a b.jpg",
        "https://mp.astria.ai/a\n.jpg",
        " https://mp.astria.ai/a.jpg",
        "https://mp.astria.ai/ä.jpg",
    ]
    assert [url for url in good + forged if policy.origin_of(url)] == good
    live.rt.services.accounts.register(USER)
    model = make_model(live.rt.store, USER, ready_as=2_000_001)
    generation, _ = live.rt.store.create_generation(
        USER, model_id=model.id, prompt="x", num_images=2, cost=1
    )
    telegram.refuse_urls = True  # the app would have to fetch them itself
    body = {"prompt": {"id": 73, "images": [f"http://user@{pinned}/b.jpg", forged[0]]}}
    assert live.callback("prompt", generation.id, body).json()["outcome"] == "failed"
    live.idle()
    assert internal.hits == []  # nothing fetched
    assert live.rt.store.get_generation(generation.id).images == ()
    assert not telegram.calls_to("sendMediaGroup", USER)


# 20 -----------------------------------------------------------------------------------------------


def test_20_the_sandbox_calls_back_under_the_callback_routes_only_without_dot_segments(live):
    base = f"{live.url}/api/astria/callback"
    escapes = [
        f"{base}/../../astria-sandbox/_faults",
        f"{base}/tune/1/../../../../healthz?token=x",
        f"{base}/%2e%2e/%2e%2e/readyz",
        f"{base}/./tune/1?token=x",
        f"{base}/tune/1?token=x#/../../x",
        f"{base}/tune/1?token=x&next=/admin",
    ]
    for n, callback in enumerate(escapes):
        created = sandbox(live, "POST", "/tunes", files=tune_files(callback, title=f"t-{n}"))
        assert created.status_code == 422, callback
    assert sandbox_tunes(live) == []
    token = callback_token(live.rt.settings.secret_key, "tune", 1)
    good = sandbox(live, "POST", "/tunes", files=tune_files(f"{base}/tune/1?token={token}"))
    assert good.status_code == 201


# 21 -----------------------------------------------------------------------------------------------


def test_21_with_redis_down_requests_are_served_and_limits_counted_in_memory(make_live, telegram):
    closed = f"redis://127.0.0.1:{free_port()}/0"  # REDIS_URL set, nobody listening
    live = make_live(REDIS_URL=closed, FLOOD_MESSAGES="3", ADMIN_CHAT_IDS="111")
    for _ in range(10):  # the API: 200s, then its limit still holds (counted in memory)
        assert (
            call(live, "POST", "/api/bot/generate", {"model_id": 1, "prompt": "x"}).status_code
            == 404
        )
    assert (
        call(live, "POST", "/api/bot/generate", {"model_id": 1, "prompt": "x"}).status_code == 429
    )
    assert call(live, "GET", "/api/bot/me").status_code == 200
    for n in range(6):  # the chat: answered, and its flood limit holds too
        assert live.post_update(f.message(USER, f"/help {n}")).status_code == 200
    assert live.rt.chat.outbox.wait_idle(30)
    texts = telegram.texts(USER)
    assert len(texts) == 3 + 1 and texts[-1].startswith("You're sending messages too fast")
    assert not telegram.texts(111)  # no alert (and the incidents guard saw no error logged)


@pytest.mark.expect_errors  # an alert is logged at ERROR, as it should
def test_21_with_redis_down_the_alert_throttle_counts_in_memory(incidents):
    sent = []
    alerts = Alerts(
        lambda c, t: sent.append(t), [1], redis=redis_client(f"redis://127.0.0.1:{free_port()}")
    )
    for _ in range(3):
        alerts.critical("unhandled_error", "RuntimeError at POST /x")
    assert sent == ["⚠️ unhandled_error: RuntimeError at POST /x"]
    assert [r.levelname for r in incidents.records] == ["ERROR"] * 3  # the log lines, no crash


# 22 -----------------------------------------------------------------------------------------------


def test_22_with_a_real_astria_key_the_dev_host_serves_this_machine_only(tmp_path):
    outside, local = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "127.0.0.1"}
    sandboxed = LiveApp(tmp_path / "sandbox", None)  # no keys at all: nothing real to spend
    real = LiveApp(tmp_path / "real", None, ASTRIA_API_KEY="sd_test-key-never-used")
    try:
        client = sandboxed.app.test_client()
        assert client.get("/app/dev", environ_base=outside).status_code == 200
        client = real.app.test_client()
        refused = client.get("/app/dev", environ_base=outside)
        assert refused.status_code == 404 and b"tgWebAppData" not in refused.data
        assert '"devHost": null' in client.get("/app", environ_base=outside).text
        page = client.get("/app/dev", environ_base=local)
        assert page.status_code == 200  # the developer on this machine
        signed = page.text.split("tgWebAppData=")[1].split("&")[0]
        auth = {"Authorization": f"tma {unquote(signed)}"}
        assert client.get("/api/bot/me", headers=auth, environ_base=local).status_code == 200
        taken = client.get("/api/bot/me", headers=auth, environ_base=outside)
        assert taken.status_code == 401  # initData carried elsewhere is refused too
    finally:
        real.close()
        sandboxed.close()


# 23 -----------------------------------------------------------------------------------------------


def test_23_the_page_may_run_telegrams_one_script_not_all_of_telegram_org(live):
    page = live.http.get(f"{live.url}/app", timeout=10)
    policy = dict(
        p.strip().split(" ", 1) for p in page.headers["Content-Security-Policy"].split(";")
    )
    sources = policy["script-src"].split()
    assert sources[:2] == ["'self'", "https://telegram.org/js/telegram-web-app.js"]
    assert len(sources) == 3 and sources[2].startswith("'nonce-")


def test_23_the_sandbox_compares_its_image_signatures_in_constant_time(live, telegram, monkeypatch):
    import hmac

    model = trained_model(live, telegram, USER)
    live.post_update(f.callback(USER, f"gen:{model.id}"))
    live.post_update(f.message(USER, "a castle"))
    telegram.wait_text(USER, "Want more pictures")
    image = live.rt.store.list_generations(USER)[0].images[0]
    compared, real = [], hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append(a) or real(a, b))
    forged = image.replace(image.split("/")[-2], "0" * 24)
    assert requests.get(forged, timeout=10).status_code == 404
    assert requests.get(image, timeout=10).status_code == 200
    assert compared == [b"0" * 24, image.split("/")[-2].encode()]


class Dripping:
    """A server that answers a byte at a time, each well within any read timeout: in its
    headers (`where="headers"`) or in an endless body."""

    def __init__(self, where: str) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.where, self.stop = where, threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
        body = b"\r\n" + b"\xff" * 10_000_000
        with conn:
            conn.recv(65536)
            if self.where == "body":
                conn.sendall(head)
                head = body
            for byte in head + body:
                if self.stop.wait(0.05):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.mark.parametrize("where", ["headers", "body"])
def test_23_an_image_server_dripping_bytes_is_cut_off_at_the_deadline(monkeypatch, where):
    from webapp import images

    monkeypatch.setattr(images, "FETCH_SECONDS", 1.0)  # 30 s as deployed
    server = Dripping(where)
    policy = images.ImagePolicy(Settings(astria_image_hosts=(server.url,)))
    try:
        started = time.monotonic()
        with pytest.raises(images.ImageRefused, match="took over 1 s"):
            policy.fetch(f"{server.url}/a.jpg", 20 * 1024 * 1024)
        assert time.monotonic() - started < 3
    finally:
        server.close()
