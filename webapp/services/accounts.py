"""Accounts: registration on first contact and the credit balance."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from webapp.records import User
from webapp.settings import Settings
from webapp.store import Store

log = logging.getLogger("credits")


@dataclass(frozen=True)
class Prices:
    """What things cost, in credits."""

    train: int
    generate: int
    images_per_generation: int


class Accounts:
    """Users and their credits."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.prices = Prices(
            settings.train_cost, settings.generate_cost, settings.images_per_prompt
        )

    def register(
        self,
        telegram_id: int,
        *,
        username: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> User:
        """The user, created with FREE_CREDITS on first contact."""
        user, created = self.store.ensure_user(
            telegram_id,
            username=username,
            first_name=first_name,
            last_name=last_name,
            language_code=language_code,
            free_credits=self.settings.free_credits,
        )
        if created:
            log.info(
                "credits user=%s delta=+%s reason=signup balance=%s",
                telegram_id,
                self.settings.free_credits,
                user.credits,
            )
        return user

    def get(self, telegram_id: int) -> User | None:
        """The user, or None."""
        return self.store.get_user(telegram_id)
