"""What training and generation share: the store, Astria, the job pool and the notifier."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from webapp.alerts import Alerts
from webapp.astria import AstriaClient, AstriaError, AstriaOutcomeUnknown, AstriaRejected
from webapp.jobs import Background
from webapp.records import Failure, MarkKind
from webapp.services.ports import Notifier
from webapp.settings import Settings
from webapp.store import Store
from webapp.timers import Heartbeat

log = logging.getLogger("astria")

RETRY_PAUSE = 60  # seconds before a job that raised is tried again (by the sweep)
# After an answer we never got (a 504): a tune is sent again after OUTCOME_WAIT seconds (its
# title makes it the same tune); a prompt never is (it would be paid twice): the claim is held
# a day, and its callback or the reconciler (which fails and refunds it once ASTRIA_RETRY_MINUTES
# have passed) settles it first.
OUTCOME_WAIT = 600
NEVER_AGAIN = 24 * 3600
STALE_AFTER = timedelta(hours=1)  # work not sent this long past its deadline is refunded instead
Hold = Callable[[datetime], None]  # hold a claim so that it runs out at the given time
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
        jobs: Background,
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
        *,
        later: Callable[[], bool] = lambda: False,
        hold: Hold | None = None,
        resend_after: int = OUTCOME_WAIT,
    ):
        """Astria's answer to `call` (the request `what`, for `subject`, e.g. "model=7"), or
        None when there is nothing more to do now: Astria refused (the work is failed and
        refunded with `fail`), Astria is down (`later` puts it off; past the deadline it is
        failed too), or the outcome is unknown (Astria may have made it: its callback, whose
        URL names our id, will settle it; the claim is held `resend_after` seconds with `hold`,
        then the work is sent again)."""
        try:
            return call()
        except AstriaOutcomeUnknown:
            log.warning("%s outcome unknown; waiting for the callback", subject)
            if hold is not None:
                hold(datetime.now(UTC) + timedelta(seconds=resend_after))
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
        self.store.forget_marks(MarkKind.SLOW_NOTICE, datetime.now(UTC) - timedelta(days=1))

    @contextmanager
    def claimed(
        self,
        record,
        claim: Callable[[int, int], object],
        postpone: Callable[[int, datetime, int], None],
        fail: Callable[[int, str], object],
    ) -> Iterator[Hold]:
        """Run the body of a job that has just claimed `record` (a model or generation) with
        the store's `claim(id, lease_seconds)`.

        The claim is renewed every third of UPLOAD_LEASE_SECONDS while the body runs (claiming
        again with no lease to wait out: `claim(id, 0)`, on the store's clock), so a job cut
        short (a killed worker) is taken over by the sweep within about one lease, and a slow
        Astria never lets a second worker in. The store's `postpone(id, free_at, lease)` sets
        when the claim runs out; the body gets a `hold(free_at)` that stops the renewals first,
        to put the work off (`postpone`). If the body raises, the work is tried again after
        RETRY_PAUSE, or, past the work's deadline (ASTRIA_RETRY_MINUTES after it began), failed
        and refunded with `fail(id, failure)`: never stuck for good."""
        lease = self.settings.upload_lease_seconds
        name = f"{type(record).__name__.lower()}={record.id}"
        heartbeat = Heartbeat(lambda: claim(record.id, 0), lease / 3, name)

        def hold(free_at: datetime) -> None:
            postpone(record.id, free_at, lease)

        held: list[datetime] = []  # what the body held the claim until, if it did

        def put_off(free_at: datetime) -> None:
            heartbeat.stop()
            hold(free_at)
            held[:] = [free_at]

        with heartbeat:
            try:
                yield put_off
            except Exception:
                heartbeat.stop()
                failed = lambda failure: fail(record.id, failure)  # noqa: E731
                self._after_crash(record, hold, failed, name, held[0] if held else None)
                raise

    def _after_crash(
        self,
        record,
        hold: Hold,
        fail: Callable[[str], object],
        name: str,
        held: datetime | None,
    ) -> None:
        """A job raised: try its work again soon (never sooner than the body had held it:
        a prompt that may exist on Astria stays held), or fail it once its deadline is past."""
        now = datetime.now(UTC)
        retry_at = now + timedelta(seconds=RETRY_PAUSE)
        try:
            if now >= self.deadline(record):
                log.error("%s failed and is past its deadline: refunded", name)
                fail(Failure.INTERRUPTED)
            elif held is None or held < retry_at:
                hold(retry_at)
        except Exception as exc:  # the store is down too: the claim runs out by itself
            log.warning("%s: could not put the work back (%s)", name, type(exc).__name__)

    def deadline(self, record) -> datetime:
        """Until when work (a model or generation) may still be tried: ASTRIA_RETRY_MINUTES
        after it began (a record without a start time: now)."""
        began = record.created_at or datetime.now(UTC)
        return began + timedelta(minutes=self.settings.astria_retry_minutes)

    def postpone(self, record, name: str, hold: Hold) -> bool:
        """Astria is down: the work (a model or generation, `name` to the user) is tried again
        after a pause that grows with its age (10 s … 5 min), until ASTRIA_RETRY_MINUTES after
        it began; the user hears of it once. False past that deadline (then it fails).
        `hold(free_at)` holds the work's claim until the next try, which the sweep (or a
        restart) starts; nothing waits in memory."""
        minutes = self.settings.astria_retry_minutes
        now = datetime.now(UTC)
        deadline = self.deadline(record)
        if now >= deadline:
            return False
        age = (now - (record.created_at or now)).total_seconds()
        pause = timedelta(seconds=min(max(age / 2, 10), 300))
        retry_at = min(now + pause, deadline)
        hold(retry_at)
        told = f"{type(record).__name__}:{record.id}:{record.telegram_user_id}"
        if self.store.mark(MarkKind.SLOW_NOTICE, told, record.telegram_user_id):  # once per work
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
