"""What training and generation share: the store, Astria, the job pool and the notifier."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from webapp.alerts import Alerts
from webapp.astria import AstriaClient, AstriaError, AstriaOutcomeUnknown, AstriaRejected
from webapp.jobs import Jobs
from webapp.records import Failure
from webapp.services.ports import Notifier
from webapp.settings import Settings
from webapp.store import Store

log = logging.getLogger("astria")

SLOW_PREFIX = "slow:"  # "the user was told this work waits for Astria", kept for a day
CallbackUrl = Callable[[str, int], str]  # (kind, our object id) -> a signed callback URL


def forget_on_astria(delete: Callable, *ids: int) -> None:
    """Delete a tune or prompt on Astria whose rows are gone (the user deleted their data):
    best effort, logged when Astria cannot."""
    try:
        delete(*ids)
    except AstriaRejected as exc:
        if exc.status != 404:  # already gone is fine
            log.warning("could not delete %s on Astria (%s): %s", ids, exc.status, exc.message)
    except AstriaError as exc:
        log.warning("could not delete %s on Astria: %s", ids, type(exc).__name__)


class AstriaWork:
    """A service that charges credits, then carries the work to Astria in the background."""

    def __init__(
        self,
        store: Store,
        astria: AstriaClient,
        settings: Settings,
        jobs: Jobs,
        notifier: Notifier,
        callback_url: CallbackUrl,
        alerts: Alerts | None = None,
    ) -> None:
        self.store = store
        self.astria = astria
        self.settings = settings
        self.jobs = jobs
        self.notifier = notifier
        self.callback_url = callback_url
        self.alerts = alerts or Alerts(None, ())

    def astria_refused(self, exc: AstriaRejected, what: str) -> None:
        """Astria refusing our key is the operators' problem, not the user's: alert them."""
        if exc.status in (401, 403):
            self.alerts.critical("astria_key_refused", f"Astria answered {exc.status} to {what}")

    def send(
        self,
        call: Callable,
        what: str,
        fail: Callable[[str], object],
        subject: str,
        later: Callable[[], bool] = lambda: False,
    ):
        """Astria's answer to `call` (the request `what`, for `subject`, e.g. "model=7"), or
        None when there is nothing more to do now: Astria refused (the work is failed and
        refunded with `fail`), Astria is down (`later` puts it off; past the deadline it is
        failed too), or the outcome is unknown (Astria may have made it: its callback, whose
        URL names our id, will settle it)."""
        try:
            return call()
        except AstriaOutcomeUnknown:
            log.warning("%s outcome unknown; waiting for the callback", subject)
        except AstriaRejected as exc:
            self.astria_refused(exc, what)
            log.warning("%s refused by Astria (%s): %s", subject, exc.status, exc.message)
            fail(Failure.astria(exc.message))
        except AstriaError as exc:
            log.warning("%s Astria unavailable (%s)", subject, exc.status)
            if not later():
                fail(Failure.ASTRIA_UNAVAILABLE)
        return None

    def forget_slow_notices(self) -> None:
        """The marks of work whose user was told it waits for Astria, a day on."""
        self.store.forget_conversations(SLOW_PREFIX, datetime.now(UTC) - timedelta(days=1))

    def postpone(self, record, name: str, postpone: Callable[[datetime, int], None]) -> bool:
        """Astria is down: the work (a model or generation, `name` to the user) is tried again
        after a pause that grows with its age (10 s … 5 min), until ASTRIA_RETRY_MINUTES after
        it began; the user hears of it once. False past that deadline (then it fails).
        `postpone(free_at, lease_seconds)` holds the work's lease until the next try, which
        the sweep (or a restart) starts; nothing waits in memory."""
        minutes = self.settings.astria_retry_minutes
        now = datetime.now(UTC)
        if record.created_at is None:
            return False
        deadline = record.created_at + timedelta(minutes=minutes)
        if now >= deadline:
            return False
        pause = timedelta(seconds=min(max((now - record.created_at).total_seconds() / 2, 10), 300))
        retry_at = min(now + pause, deadline)
        postpone(retry_at, self.settings.upload_lease_seconds)
        told = f"{SLOW_PREFIX}{type(record).__name__}:{record.id}:{record.telegram_user_id}"
        if self.store.get_conversation(told).state is None:  # once per piece of work
            self.store.set_conversation(told, "told", {})
            user = self.store.get_user(record.telegram_user_id)
            self.notifier.astria_slow(user, type(record).__name__.lower(), name, minutes)
        log.info("%s %s waits for Astria until %s", type(record).__name__, record.id, retry_at)
        return True

    @staticmethod
    def refunded(outcome: tuple | None, price: int, reason: str):
        """After the store moved work to failed: (the record, credits given back), logged as
        every credit change is; None when it had already left its working status."""
        if outcome is None:
            return None
        record, balance = outcome
        amount = price if balance is not None else 0
        log.info(
            "credits user=%s delta=+%s reason=%s ref=%s balance=%s",
            record.telegram_user_id,
            amount,
            reason,
            record.id,
            balance,
        )
        return record, amount
