"""Fixtures: the Telegram stand-in, the live app, and a guard against reaching the internet."""

from __future__ import annotations

import ipaddress
import socket

import pytest

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


@pytest.fixture
def telegram():
    """The Bot API stand-in."""
    fake = FakeTelegram(TOKEN)
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

    def make(**env):
        app = LiveApp(tmp_path, telegram, **env)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()
