"""What the app builds once at start-up and every request reuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app

from webapp.alerts import Alerts
from webapp.images import ImagePolicy
from webapp.jobs import Background, Sweeper
from webapp.services import Services
from webapp.services.leases import Leases
from webapp.settings import Settings
from webapp.store import Store


@dataclass
class Runtime:
    """The app's long-lived objects: settings, store, jobs, services and the bot."""

    settings: Settings
    store: Store
    jobs: Background
    services: Services
    images: ImagePolicy
    bot: object | None = None  # telebot.TeleBot when a token is set
    # claims one update's JSON (bot.Claimed), reading its sender and state with it
    claim_update: Callable[[dict], object] | None = None
    # runs one telebot Update: (ok, the Bot API call its webhook answer carries, or None)
    handle_update: Callable[..., object] | None = None
    leases: Leases | None = None  # this process's claims on the updates it handles
    outbox: object | None = None  # bot.outbox.Outbox: Bot API calls queued or waiting
    journal: object | None = None  # bot.outbox.journal.RedisJournal: the outbox's, in Redis
    sweepers: list[Sweeper] = field(default_factory=list)
    alerts: Alerts = field(default_factory=lambda: Alerts(None, ()))

    def close(self) -> None:
        """Stop background work (tests, and a clean shutdown)."""
        for sweeper in self.sweepers:
            sweeper.stop()
        self.jobs.shutdown()
        if self.leases is not None:  # updates handled here are marked done
            self.leases.close()
        if self.outbox is not None:  # shared by the process: flushed, not stopped
            self.outbox.wait_idle(5)
        if self.journal is not None:  # what is still queued is left to another process
            self.journal.close()
            if self.outbox.journal is self.journal:
                self.outbox.journal = None
        self.store.close()


def runtime() -> Runtime:
    """The current app's Runtime."""
    return current_app.extensions["runtime"]
