"""What the services need from the outside world besides the store and Astria.

The chat implements these with telebot (bot/notifier.py); in dev mode they only log.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Future
from typing import Protocol

from webapp.astria import Photo
from webapp.records import Generation, Model, Order, SellingOff, Shoot, User

log = logging.getLogger("notify")


def to_a_user(method):
    """A notifier method for a user who may be gone (they deleted their data while the work
    was on its way): then nothing is said."""

    @functools.wraps(method)
    def call(self, user, *args, **kwargs):
        if user is None:
            log.info("notify: %s for a deleted user; not sent", method.__name__)
            return None
        return method(self, user, *args, **kwargs)

    return call


# What sending an album comes to: out (True, or None: nobody to send it to), not out (False: it
# is sent again), or a Future of that while it waits for Telegram.
Sending = bool | None | Future


class Notifier(Protocol):
    """Tells a user how their work ended; called once per outcome (user None: nobody)."""

    def training_started(self, user: User | None, model: Model) -> None:
        """Astria accepted the photos; training is under way."""

    def model_ready(self, user: User | None, model: Model) -> None:
        """The model finished training."""

    def model_failed(self, user: User | None, model: Model, refunded: int) -> None:
        """The model could not be trained; `refunded` credits went back."""

    def generation_done(self, user: User | None, model: Model, generation: Generation) -> Sending:
        """Send the images: True (or None: nobody to send them to) once they are out, False
        when they did not go out (they are sent again), or a Future of that while they wait
        for Telegram (a long 429)."""

    def generation_failed(self, user: User | None, generation: Generation, refunded: int) -> None:
        """The generation failed; `refunded` credits went back."""

    def shoot_progress(self, user: User | None, shoot: Shoot, ready: int) -> None:
        """`ready` of the photoshoot's pictures are done (its progress message, edited)."""

    def shoot_done(self, user: User | None, shoot: Shoot, delivered: int, refunded: int) -> None:
        """The photoshoot is over: `delivered` pictures came; `refunded` credits went back."""

    def photo_problems(self, user: User | None, number: int, problems: tuple[str, ...]) -> None:
        """A training photo sent in the chat will train badly (blurry, several people…)."""

    def astria_slow(self, user: User | None, kind: str, name: str, minutes: int) -> None:
        """Astria is not answering: the work (`kind` "model" or "generation", with the model's
        `name`) waits and is tried again for up to `minutes`; told once per piece of work."""


class FileSource(Protocol):
    """Where the photos named in a model's `photo_file_ids` are fetched from (Telegram)."""

    def download(self, file_id: str) -> Photo:
        """The photo's bytes; raises on failure."""


class TelegramRefused(Exception):
    """Telegram would not refund a payment or change a subscription (or did not answer); the
    message is Telegram's reason."""


class AlreadyRefunded(TelegramRefused):
    """Telegram says the charge was refunded before (CHARGE_ALREADY_REFUNDED)."""


class Cashier(Protocol):
    """Telegram's side of selling: invoice links for the Mini App and refunds of Stars."""

    available: bool  # False: there is no Telegram to pay in (dev mode)

    def invoice_link(self, order: Order, language_code: str | None) -> str:
        """A t.me invoice link for the order (its payload is the order's id); for a plan's
        order, a Stars subscription renewed every 30 days."""

    def refund(self, telegram_id: int, charge_id: str) -> None:
        """Give the Stars of one payment back; raises TelegramRefused or AlreadyRefunded."""

    def renew(self, telegram_id: int, charge_id: str, renew: bool) -> None:
        """Let a Stars subscription renew, or not (editUserStarSubscription); raises
        TelegramRefused when Telegram refuses."""


class LogNotifier:
    """Dev mode has no chat to write to: each outcome the user would be told of becomes a log
    line instead (ids only, none of their content)."""

    @to_a_user
    def training_started(self, user: User | None, model: Model) -> None:
        """The photos reached Astria."""
        log.info("notify user=%s training started model=%s", user.telegram_id, model.id)

    @to_a_user
    def model_ready(self, user: User | None, model: Model) -> None:
        """The model can generate now."""
        log.info("notify user=%s model ready model=%s", user.telegram_id, model.id)

    @to_a_user
    def model_failed(self, user: User | None, model: Model, refunded: int) -> None:
        """The model failed; `refunded` credits went back."""
        log.info("notify user=%s model failed model=%s refunded=%s", user.telegram_id, model.id,
                 refunded)  # fmt: skip

    @to_a_user
    def generation_done(
        self,
        user: User | None,
        model: Model,
        generation: Generation,
    ) -> bool:
        """The images are in the gallery."""
        log.info("notify user=%s generation done generation=%s", user.telegram_id, generation.id)
        return True

    @to_a_user
    def generation_failed(self, user: User | None, generation: Generation, refunded: int) -> None:
        """The generation failed; `refunded` credits went back."""
        log.info("notify user=%s generation failed generation=%s refunded=%s", user.telegram_id,
                 generation.id, refunded)  # fmt: skip

    @to_a_user
    def shoot_progress(self, user: User | None, shoot: Shoot, ready: int) -> None:
        """More of a photoshoot is done."""
        log.info("notify user=%s shoot=%s ready=%s", user.telegram_id, shoot.id, ready)

    @to_a_user
    def shoot_done(self, user: User | None, shoot: Shoot, delivered: int, refunded: int) -> None:
        """A photoshoot is over."""
        log.info("notify user=%s shoot=%s done images=%s refunded=%s", user.telegram_id,
                 shoot.id, delivered, refunded)  # fmt: skip

    @to_a_user
    def photo_problems(self, user: User | None, number: int, problems: tuple[str, ...]) -> None:
        """A chat photo will train badly."""
        log.info("notify user=%s photo %s: %s", user.telegram_id, number, ",".join(problems))

    @to_a_user
    def astria_slow(self, user: User | None, kind: str, name: str, minutes: int) -> None:
        """The work waits for Astria."""
        log.info("notify user=%s %s waits for astria (%s min)", user.telegram_id, kind, minutes)


class NoFiles:
    """Dev mode has no Telegram to download from."""

    def download(self, file_id: str) -> Photo:
        """Always fails: there is no bot token."""
        raise RuntimeError("no Telegram bot token: cannot download Telegram files")


class NoCashier:
    """Dev mode has no Telegram to pay in."""

    available = False

    def invoice_link(self, order: Order, language_code: str | None) -> str:
        """Never called: Payments checks `available` first."""
        raise SellingOff("Payments need Telegram (dev mode).", reason="no_telegram")

    def refund(self, telegram_id: int, charge_id: str) -> None:
        """Always refused."""
        raise TelegramRefused("no Telegram bot token")

    def renew(self, telegram_id: int, charge_id: str, renew: bool) -> None:
        """Always refused."""
        raise TelegramRefused("no Telegram bot token")
