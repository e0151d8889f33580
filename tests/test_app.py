"""The app as an operator meets it: settings, the landing page, the go-live command, the sandbox."""

from __future__ import annotations

import json

import pytest
import requests

from tests import factories as f
from tests.live import TOKEN, WEBHOOK_SECRET, LiveApp
from webapp import create_app
from webapp.settings import Settings, SettingsError
from webapp.texts import LANGUAGES


def test_a_token_without_a_webhook_secret_is_refused():
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET is required"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRAIN_COST": "one"}, "TRAIN_COST must be a whole number"),
        ({"FREE_CREDITS": "-1"}, "FREE_CREDITS must be at least 0"),
        ({"IMAGES_PER_PROMPT": "9"}, "IMAGES_PER_PROMPT must be between 1 and 8"),
        ({"ASTRIA_MODEL_TYPE": "dreambooth"}, "ASTRIA_MODEL_TYPE must be one of"),
        ({"INSPECT_SECONDS": "nan"}, "INSPECT_SECONDS must be a finite number"),
        ({"ASTRIA_TIMEOUT": "inf"}, "ASTRIA_TIMEOUT must be a finite number"),
        ({"SWEEP_SECONDS": "0"}, "SWEEP_SECONDS must be above zero"),  # it would spin
        ({"TELEGRAM_WEBHOOK_REPLIES": "off"}, "TELEGRAM_WEBHOOK_REPLIES must be 1 .on. or 0"),
        ({"ADMIN_CHAT_IDS": "12345,@boss"}, "ADMIN_CHAT_IDS must be chat ids separated by"),
        ({"ADMIN_CHAT_IDS": "9999999999999999999"}, "ADMIN_CHAT_IDS must be chat ids"),  # > int64
        ({"CREDIT_PACKS": "10:100,10:200"}, "CREDIT_PACKS: two packs with the same number"),
        ({"MONTHLY_PLAN": "100"}, "MONTHLY_PLAN must look like 10:100"),
        # half a Supabase configuration once fell back to SQLite without a word
        ({"SUPABASE_URL": "https://x.supabase.co"}, "SUPABASE_SERVICE_ROLE_KEY is not"),
        ({"SUPABASE_SERVICE_ROLE_KEY": "k" * 40}, "SUPABASE_URL is not"),
        # found by an outside attack: each once ended in a traceback, or worse, was taken
        ({"PUBLIC_URL": "bot.example.com"}, "PUBLIC_URL must be an http.s. address"),
        ({"PUBLIC_URL": "https://bot.example.com:99999"}, "PUBLIC_URL must be an http.s."),
        ({"TELEGRAM_API_URL": "api.telegram.org"}, "TELEGRAM_API_URL must be an http.s."),
        ({"SUPABASE_URL": "x.supabase.co"}, "SUPABASE_URL must be an http.s. address"),
        ({"REDIS_URL": "redis-host:6379"}, "REDIS_URL must be a redis:// or rediss:// URL"),
        ({"DATABASE_URL": "mysql://db/bot"}, "DATABASE_URL must look like sqlite:///"),
        ({"SECRET_KEY": "x"}, "SECRET_KEY must be at least 16 characters"),  # it signs callbacks
        ({"PUBLIC_URL": "https://bot.example.com?x=1"}, "PUBLIC_URL must be an http.s. address"),
        ({"PUBLIC_URL": "https://user:pw@bot.example.com"}, "PUBLIC_URL must be an http.s."),
        ({"PUBLIC_URL": "https://[::1"}, "PUBLIC_URL must be an http.s. address"),
        ({"REDIS_URL": "unix:///run/redis.sock"}, "REDIS_URL must be a redis:// or rediss://"),
        ({"REDIS_URL": "redis://:pw@localhost:99999/0"}, "REDIS_URL must be a redis://"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL must look like sqlite:///"),
    ],
)
def test_malformed_settings_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_every_setting_has_one_default_in_code_and_from_the_environment():
    assert Settings() == Settings.from_env({})  # one default each (credit packs included)
    assert Settings.from_env({"CREDIT_PACKS": ""}).credit_packs == ()  # set empty: none sold
    assert Settings.from_env({"ADMIN_CHAT_IDS": " 12, -100345 "}).admin_chat_ids == (12, -100345)


def test_defaults_follow_the_design():
    settings = Settings.from_env({})
    assert (
        settings.free_credits,
        settings.train_cost,
        settings.generate_cost,
        settings.images_per_prompt,
    ) == (3, 1, 1, 4)
    assert settings.dev_mode and settings.sandbox
    assert settings.astria_base == "http://127.0.0.1:8000/astria-sandbox"
    assert settings.astria_base_tune_id == 1504944 and settings.astria_model_type == "lora"
    real = Settings.from_env({"ASTRIA_API_KEY": "sd_x"})
    assert real.astria_base == "https://api.astria.ai" and not real.sandbox


def test_the_landing_page_and_health(tmp_path):
    app = create_app(Settings.from_env({"INSTANCE_PATH": str(tmp_path)}))
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and b"built-in sandbox" in page.data
    css = client.get("/static/site.css")
    assert css.status_code == 200
    css.close()
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    app.extensions["runtime"].close()


def test_set_webhook_goes_live_with_the_secret_and_both_command_menus(make_live, telegram):
    live = make_live(PUBLIC_URL="https://bot.example.com")
    result = live.app.test_cli_runner().invoke(args=["set-webhook"])
    assert result.exit_code == 0, result.output
    assert "https://bot.example.com/api/bot/webhook" in result.output
    (hook,) = telegram.calls_to("setWebhook")
    assert hook.params["url"] == "https://bot.example.com/api/bot/webhook"
    assert hook.params["secret_token"] == WEBHOOK_SECRET
    assert json.loads(hook.params["allowed_updates"]) == [
        "message",
        "callback_query",
        "my_chat_member",
        "pre_checkout_query",  # without it no payment could ever go through
    ]
    assert "drop_pending_updates" not in hook.params
    menus = telegram.calls_to("setMyCommands")
    by_language = {m.params.get("language_code"): m.params["commands"] for m in menus}
    others = {lang for lang in LANGUAGES if lang != "en"}  # English is everyone else's menu
    assert len(menus) == len(LANGUAGES) and set(by_language) == {None, *others}
    assert '"command": "train"' in by_language[None]
    (menu,) = telegram.calls_to("setChatMenuButton")
    assert '"url": "https://bot.example.com/app"' in menu.params["menu_button"]


def test_set_webhook_refuses_plain_http_and_dev_mode(make_live, tmp_path):
    live = make_live()
    result = live.app.test_cli_runner().invoke(args=["set-webhook"])
    assert result.exit_code != 0 and "PUBLIC_URL must be https" in result.output
    dev = LiveApp(tmp_path / "dev", telegram=None)
    try:
        result = dev.app.test_cli_runner().invoke(args=["set-webhook"])
        assert result.exit_code != 0 and "TELEGRAM_BOT_TOKEN is not set" in result.output
    finally:
        dev.close()


def test_the_sandbox_speaks_astrias_api(live):
    base = f"{live.url}/astria-sandbox"
    auth = {"Authorization": f"Bearer {live.rt.settings.sandbox_key}"}
    assert requests.get(f"{base}/tunes/1", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer anything"}
    assert requests.get(f"{base}/tunes/1", headers=wrong, timeout=5).status_code == 401
    files = [
        ("tune[title]", (None, "uuid-1")),
        ("tune[name]", (None, "man")),
        ("tune[model_type]", (None, "lora")),
        ("tune[base_tune_id]", (None, "1504944")),
    ]
    no_images = requests.post(f"{base}/tunes", files=files, headers=auth, timeout=5)
    assert no_images.status_code == 422 and "images" in no_images.json()["error"]
    bad_image = requests.post(
        f"{base}/tunes",
        headers=auth,
        timeout=5,
        files=files + [("tune[images][]", ("a.jpg", b"nope", "image/jpeg"))],
    )
    assert bad_image.status_code == 422
    good = files + [("tune[images][]", (f"{n}.jpg", f.jpeg(), "image/jpeg")) for n in range(4)]
    created = requests.post(f"{base}/tunes", files=good, headers=auth, timeout=5)
    assert created.status_code == 201
    tune = created.json()
    assert tune["trained_at"] is None and tune["eta"] and "callback" not in tune
    again = requests.post(f"{base}/tunes", files=good, headers=auth, timeout=5)
    assert again.status_code == 200 and again.json()["id"] == tune["id"]  # idempotent title
    on_lora = requests.post(
        f"{base}/tunes/{tune['id']}/prompts",
        headers=auth,
        timeout=5,
        files=[("prompt[text]", (None, "x"))],
    )
    assert on_lora.status_code == 422 and "model_type=lora is not supported" in on_lora.text
    too_many = requests.post(
        f"{base}/tunes/1504944/prompts",
        headers=auth,
        timeout=5,
        data={"prompt[text]": f"<lora:{tune['id']}:1> x", "prompt[num_images]": "9"},
    )
    assert too_many.status_code == 422
    prompt = requests.post(
        f"{base}/tunes/1504944/prompts",
        headers=auth,
        timeout=5,
        json={"prompt": {"text": f"<lora:{tune['id']}:1> x", "num_images": 2}},
    )
    assert prompt.status_code == 201 and prompt.json()["images"] == []
    fetched = requests.get(
        f"{base}/tunes/1504944/prompts/{prompt.json()['id']}", headers=auth, timeout=5
    )
    assert fetched.json()["id"] == prompt.json()["id"]


def test_start_and_models_offer_the_mini_app_when_it_is_served_over_https(make_live, telegram):
    secure = make_live(PUBLIC_URL="https://bot.example.com")
    secure.post_update(f.message(7100, "/start"))
    start = telegram.calls_to("sendMessage", 7100)[-1]
    assert start.buttons() == [
        {"text": "📸 Photoshoots", "callback_data": "psl"},
        {"text": "📱 Open the app", "web_app": {"url": "https://bot.example.com/app"}},
    ]
    secure.post_update(f.message(7100, "/models"))
    assert telegram.texts(7100)[-1] == "You have no models yet. Create one with /train."
    plain = make_live()  # Telegram refuses web-app buttons on http URLs: none is sent
    plain.post_update(f.message(7101, "/start"))
    assert telegram.calls_to("sendMessage", 7101)[-1].buttons() == [
        {"text": "📸 Photoshoots", "callback_data": "psl"}
    ]


def test_a_bot_of_telegrams_test_environment_calls_its_test_addresses(make_live, telegram):
    """TELEGRAM_TEST_ENV=1: every method, and file downloads, go to /bot<token>/test/…"""
    live = make_live(TELEGRAM_TEST_ENV="1")
    live.post_update(f.message(4242, "/start"))
    assert telegram.calls_to("sendMessage", 4242)[-1].test_env
    assert live.rt.services.training.files.file_url == telegram.url + "/file/bot{0}/test/{1}"


def test_an_app_built_for_a_command_starts_no_background_work_until_it_serves(tmp_path):
    from tests.live import base_env

    app = create_app(Settings.from_env(base_env(tmp_path, None)))
    rt = app.extensions["runtime"]
    try:
        assert not rt.started and not any(s._thread.is_alive() for s in rt.sweepers)
        assert app.test_client().get("/healthz").status_code == 200  # it serves: it sweeps
        assert rt.started and all(s._thread.is_alive() for s in rt.sweepers)
    finally:
        rt.close()


@pytest.mark.expect_errors  # the failed resume is logged as an error
def test_a_resume_that_fails_at_start_leaves_the_sweeps_running(tmp_path, caplog):
    from tests.live import base_env

    app = create_app(Settings.from_env(base_env(tmp_path, None)))
    rt = app.extensions["runtime"]

    def down():
        raise ConnectionError("the store is down")

    object.__setattr__(rt.services, "resume", down)  # (the sweeper kept the real one)
    try:
        rt.start()
        assert all(s._thread.is_alive() for s in rt.sweepers)  # they try again
        assert "resume at start failed" in caplog.text
    finally:
        rt.close()


def test_two_apps_of_one_bot_in_a_process_each_answer_and_the_first_outlives_the_second(
    tmp_path, telegram
):
    """telebot's hook is per process: the app built last sends for the token while it is open;
    closed, it hands the token back to the one still running (whose replies then go out)."""
    own = {"TELEGRAM_WEBHOOK_REPLIES": "0"}  # every reply a request of the app's own outbox
    first = LiveApp(tmp_path / "first", telegram, **own)
    try:
        second = LiveApp(tmp_path / "second", telegram, **own)
        second.post_update(f.message(7101, "/credits"))
        telegram.wait_text(7101, "You have 3 credits")
        second.close()
        assert first.post_update(f.message(7102, "/credits")).status_code == 200
        telegram.wait_text(7102, "You have 3 credits")
    finally:
        first.close()


def test_a_malformed_setting_stops_a_command_with_one_plain_line(tmp_path):
    import os
    import subprocess
    import sys

    from tests.processes import ROOT

    env = {**os.environ, "INSTANCE_PATH": str(tmp_path), "ADMIN_CHAT_IDS": "@boss"}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reconcile"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Configuration error: ADMIN_CHAT_IDS must be chat ids" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_address_is_kept_as_the_app_uses_it():
    settings = Settings.from_env({"PUBLIC_URL": "HTTPS://Bot.example.com/bot/"})
    assert settings.public_url == "https://Bot.example.com/bot"  # its https:// is recognised
    assert Settings.from_env({"PUBLIC_URL": "http://[::1]:8000"}).public_url == "http://[::1]:8000"


def test_a_password_in_redis_url_is_not_echoed_when_it_is_refused():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"REDIS_URL": "http://:hunter2-secret@redis:6379/0"})
    assert "hunter2" not in str(refused.value)


def test_an_instance_folder_that_cannot_be_made_stops_a_command_with_one_plain_line(tmp_path):
    import os
    import subprocess
    import sys

    from tests.processes import ROOT

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    env = {**os.environ, "INSTANCE_PATH": str(blocked / "instance")}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "reconcile"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Could not start:" in done.stderr and "Traceback" not in done.stderr
