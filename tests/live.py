"""The app served over real HTTP on a loopback port, wired to the Telegram stand-in."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

from tests.fake_telegram import FakeTelegram
from webapp import create_app
from webapp.runtime import Runtime
from webapp.security import callback_token
from webapp.settings import Settings

TOKEN = "123456:TEST-token-for-tests-only_0123456789"


def serve(wsgi_app, port: int = 0):
    """A threaded HTTP server for `wsgi_app` on loopback (a free port unless given), already
    serving; it stops within 50 ms of `shutdown()` (werkzeug's default poll takes half a
    second, and every test starts and stops a few servers)."""
    server = make_server("127.0.0.1", port, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


WEBHOOK_SECRET = "test-webhook-secret_42"


def base_env(tmp_path: Path, telegram: FakeTelegram | None) -> dict:
    """The environment a test app runs with: fast sandbox, tiny backoff, files under tmp_path."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SANDBOX_TRAIN_SECONDS": "0.4",
        "SANDBOX_PROMPT_SECONDS": "0.2",
        "ASTRIA_BACKOFF": "0.01",
        # An Astria outage fails work at once here (a refund the test can see); test_outage.py
        # runs the wait-and-retry of ASTRIA_RETRY_MINUTES as deployed.
        "ASTRIA_RETRY_MINUTES": "0",
        "ASTRIA_TIMEOUT": "5",
        # Most tests drive a chat faster than a person would; test_outbox.py and test_limits.py
        # run Telegram's pace and the flood limit as deployed.
        "TELEGRAM_CHAT_RATE": "20",
        "TELEGRAM_CHAT_BURST": "10",
        "TELEGRAM_GLOBAL_RATE": "1000",
        "FLOOD_MESSAGES": "100",
        "ASTRIA_SANDBOX_FAULTS": "1",  # tests inject Astria's failures into the sandbox
    }
    if telegram is not None:
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
            TELEGRAM_API_URL=telegram.url,
            ASTRIA_SANDBOX="1",  # a bot token without an Astria key needs this said out loud
        )
    return env


class LiveApp:
    """create_app() behind a threaded WSGI server; PUBLIC_URL is its own loopback address."""

    def __init__(self, tmp_path: Path, telegram: FakeTelegram | None, port: int = 0, **env) -> None:
        self._built = threading.Event()  # the app's own jobs may call it before it is built
        self.telegram = telegram
        self.server, self.url = serve(self._dispatch, port)
        full_env = {**base_env(tmp_path, telegram), "PUBLIC_URL": self.url, **env}
        self.settings_env = full_env
        clock = telegram.clock if telegram is not None else None  # the outbox's: tests.clock
        self.app = create_app(Settings.from_env(full_env), clock)
        self.app.extensions["runtime"].start()  # it serves, as a gunicorn worker does
        self._built.set()
        self.http = requests.Session()

    def _dispatch(self, environ, start_response):
        self._built.wait(30)
        return self.app(environ, start_response)

    @property
    def rt(self) -> Runtime:
        """The app's long-lived objects."""
        return self.app.extensions["runtime"]

    def post_update(
        self, update: dict, secret: str | None = WEBHOOK_SECRET, answered: bool = True
    ) -> requests.Response:
        """Deliver an update the way Telegram does. `answered` False: Telegram gave up waiting
        (it will deliver the update again), so the answer goes nowhere, with its reply."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = self.http.post(
            f"{self.url}/api/bot/webhook", json=update, headers=headers, timeout=30
        )
        if self.telegram is not None and answered:
            # the reply it may carry, made by Telegram
            self.telegram.webhook_answered(response, self.rt.settings.telegram_test_env)
        return response

    def callback(self, kind: str, object_id: int, body: dict, token: str | None = "sign"):
        """POST an Astria callback; token="sign" signs it properly."""
        if token == "sign":
            token = callback_token(self.rt.settings.secret_key, kind, object_id)
        params = {"token": token} if token is not None else {}
        return self.http.post(
            f"{self.url}/api/astria/callback/{kind}/{object_id}",
            json=body,
            params=params,
            timeout=30,
        )

    def sandbox_fault(self, **spec) -> None:
        """Queue a failure in the Astria sandbox."""
        response = self.http.post(
            f"{self.url}/astria-sandbox/_faults",
            json=spec,
            headers={"Authorization": f"Bearer {self.rt.settings.sandbox_key}"},
            timeout=10,
        )
        response.raise_for_status()

    def wait_faults_used(self, timeout: float = 10.0) -> None:
        """Wait until the sandbox has used up every failure queued with sandbox_fault."""
        state = self.app.extensions["astria_sandbox"].state
        deadline = time.monotonic() + timeout
        while state.db().execute("SELECT 1 FROM faults WHERE remaining > 0").fetchone():
            assert time.monotonic() < deadline, "the sandbox did not use the queued faults"
            time.sleep(0.02)

    def idle(self) -> None:
        """Wait for background jobs to finish."""
        assert self.rt.jobs.wait_idle(30), "background jobs did not finish"

    def close(self) -> None:
        """Stop serving and stop the app's background work."""
        self.server.shutdown()
        self.rt.close()
        sandbox = self.app.extensions.get("astria_sandbox")
        if sandbox is not None:
            sandbox.close()
