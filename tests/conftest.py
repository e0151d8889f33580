"""Fixtures: the Telegram stand-in, the live app, and a guard against reaching the internet."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket

import pytest

from tests import supabase_stack
from tests.clock import SkippingClock
from tests.fake_telegram import FakeTelegram
from tests.live import TOKEN, LiveApp


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Fail loudly if anything tries to connect beyond this machine."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise AssertionError(f"test tried to reach the network: {host}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


class Incidents(logging.Handler):
    """Every ERROR (or worse) logged anywhere: a handler that raised, a job that failed, an admin
    alert (alerts log `critical …` at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        """What was logged, one line per record (with the exception type, if any)."""
        return [
            f"{r.name}: {r.getMessage()}" + (f" [{r.exc_info[0].__name__}]" if r.exc_info else "")
            for r in self.records
        ]


@pytest.fixture(autouse=True)
def incidents(request):
    """Fail any test during which something logged an error or fired an alert, unless it is
    marked `expect_errors` (it provokes them on purpose and checks them itself)."""
    handler = Incidents()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    if request.node.get_closest_marker("expect_errors") is None and handler.records:
        pytest.fail("errors were logged:\n" + "\n".join(handler.lines()), pytrace=False)


@pytest.fixture
def telegram():
    """The Bot API stand-in, on a clock the test may move on (the apps built with it share it)."""
    fake = FakeTelegram(TOKEN, clock=SkippingClock())
    yield fake
    fake.close()


@pytest.fixture
def live(tmp_path, telegram):
    """The app over HTTP, with a bot token, the sandbox and SQLite under tmp_path."""
    app = LiveApp(tmp_path, telegram)
    yield app
    app.close()


@pytest.fixture
def make_live(tmp_path, telegram):
    """Build more apps (a restart, other settings) on the same database."""
    apps = []

    def make(port: int = 0, **env):
        app = LiveApp(tmp_path, telegram, port, **env)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture(scope="session")
def supabase():
    """PostgreSQL + PostgREST + nginx for the whole session; skipped (never under CI=true) when
    a piece is missing on this machine."""
    reason = supabase_stack.missing()
    if reason:
        message = f"Supabase suite skipped: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message} — CI must run it (.ci/run installs PostgREST and nginx)")
        pytest.skip(message)
    stack = supabase_stack.SupabaseStack()
    yield stack
    stack.close()


@pytest.fixture(params=["sqlite", "supabase"])
def store_env(request):
    """Environment variables choosing each store in turn (an empty Supabase for each test)."""
    if request.param == "sqlite":
        return {}
    stack = request.getfixturevalue("supabase")
    stack.reset()
    return {"SUPABASE_URL": stack.url, "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key}


def pytest_collection_modifyitems(items):
    """The longest tests (marked `long`) first: on xdist's workers they then run beside the many
    short ones instead of alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
