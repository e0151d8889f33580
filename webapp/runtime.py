"""What the app builds once at start-up and every request reuses."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app

from webapp.alerts import Alerts
from webapp.images import ImagePolicy
from webapp.jobs import Background
from webapp.services import Services
from webapp.settings import Settings
from webapp.store import Store
from webapp.timers import Sweeper

log = logging.getLogger("app")


class Claim(Protocol):
    """An update's claim (bot.Claimed): handle it here, or it was done (with the webhook
    `answer` it carried), or another process is still at it (`busy`)."""

    @property
    def claimed(self) -> bool: ...
    @property
    def answer(self) -> dict | None: ...
    @property
    def busy(self) -> bool: ...


class Outcome(Protocol):
    """How one update went (bot.Handled) and the Bot API call its webhook answer carries."""

    @property
    def ok(self) -> bool: ...
    @property
    def answer(self) -> dict | None: ...
    @property
    def finished(self) -> bool: ...


class Chat(Protocol):
    """What the routes and commands need of the chat (bot.Chat, when a token is set): the app
    reaches the chat only through this, so nothing below the factory imports bot/."""

    def parse(self, payload: dict) -> object | None:
        """The update's JSON as the chat's own update object; None when it cannot be read."""

    def claim(self, payload: dict) -> Claim:
        """Claim one update for this process (with its sender and chat state)."""

    def handle(self, update: object, claimed: bool = True) -> Outcome:
        """Run one parsed update through the flows."""

    def go_live(self) -> str:
        """setWebhook and the command menus; the webhook's URL."""

    def wait_sent(self, timeout: float) -> bool:
        """Wait until no message is queued; True when none is."""

    @property
    def journaled(self) -> bool:
        """Queued messages are kept in Redis too: another process sends them if this one ends."""

    def close(self) -> None:
        """Finish what is under way and let go."""


@dataclass
class Runtime:
    """The app's long-lived objects: settings, store, jobs, services and the chat."""

    settings: Settings
    store: Store
    jobs: Background
    services: Services
    images: ImagePolicy
    chat: Chat | None = None  # bot.Chat when TELEGRAM_BOT_TOKEN is set
    sweepers: list[Sweeper] = field(default_factory=list)  # started by `start`
    alerts: Alerts = field(default_factory=lambda: Alerts(None, ()))
    started: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start(self) -> None:
        """A process that serves (a gunicorn worker, the RQ worker, a first request) picks up
        the work a previous process left half-done, then sweeps for it every SWEEP_SECONDS;
        once. A CLI command or an app built only to be inspected starts nothing."""
        with self._lock:
            if self.started:
                return
            self.started = True
        for sweeper in self.sweepers:  # first: a resume that fails now is the sweeps' to redo
            sweeper.start()
        try:
            self.services.resume()
        except Exception:  # the store is down at start: the first sweep tries again
            log.exception("resume at start failed; the sweep tries again")

    def close(self) -> None:
        """Stop background work (tests, and a clean shutdown)."""
        for sweeper in self.sweepers:
            sweeper.stop()
        self.jobs.shutdown()
        if self.chat is not None:
            self.chat.close()
        self.store.close()


def runtime() -> Runtime:
    """The current app's Runtime."""
    return current_app.extensions["runtime"]
