"""Accounts: registration on first contact and the credit balance."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from webapp.astria import AstriaClient, AstriaError, AstriaRejected
from webapp.records import DomainError, NotFound, User, UserStatus, bounded_id
from webapp.services.generation import prompt_tune
from webapp.services.work import forget_on_astria
from webapp.settings import Settings
from webapp.store import Store

log = logging.getLogger("credits")


@dataclass(frozen=True)
class Prices:
    """What things cost, in credits."""

    train: int
    generate: int
    images_per_generation: int


class DeleteFailed(DomainError):
    """Astria could not delete a model now; nothing was deleted here, so it can be retried."""

    code = "delete_failed"
    http_status = 503


class Accounts:
    """Users and their credits."""

    def __init__(self, store: Store, settings: Settings, astria: AstriaClient) -> None:
        self.store = store
        self.settings = settings
        self.astria = astria
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
            signup_key=self.signup_key(telegram_id),
        )
        return self.registered(user, created)

    def registered(self, user: User, created: bool) -> User:
        """A user the store has just made sure of (with the update's claim): logged if new."""
        if created:
            # a user back after /delete gets no second bonus: the delta is what they got
            log.info(
                "credits user=%s delta=+%s reason=signup balance=%s",
                user.telegram_id,
                user.credits,
                user.credits,
            )
        return user

    def signup_key(self, telegram_id: int) -> str:
        """A keyed hash of the Telegram id: remembers a signup bonus without keeping the id."""
        message = f"signup:{telegram_id}".encode()
        return hmac.new(self.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()

    def language_of(self, telegram_id: int) -> str | None:
        """The user's Telegram language, if they are known."""
        user = self.store.get_user(telegram_id)
        return user.language_code if user else None

    def set_reachable(self, telegram_id: int, reachable: bool) -> None:
        """Remember whether the user lets us write to them (they blocked or unblocked the bot)."""
        status = UserStatus.ACTIVE if reachable else UserStatus.BLOCKED
        self.store.set_user_status(telegram_id, status)
        log.info("user=%s is %s", telegram_id, status)

    def delete_everything(self, telegram_id: int) -> int:
        """Delete the user's tunes and generations on Astria and every row of theirs; the
        number of models deleted.

        What the rows name on Astria now is deleted there first: if Astria cannot delete it,
        nothing is deleted here (DeleteFailed), so the request can be repeated. Then every row
        goes at once, and the store hands back the Astria ids the rows named as they went: work
        that reached Astria meanwhile (an upload in flight) is deleted there too. Work that
        reaches Astria later finds no row, and its own job deletes it there."""
        models = self.store.list_models(telegram_id)
        model_of = {m.id: (m.tune_id, m.model_type) for m in models}
        tunes, prompts = self._on_astria(
            [m.tune_id for m in models],
            [
                (g.prompt_id, *model_of.get(g.model_id, (None, None)))
                for g in self._generations(telegram_id)
            ],
        )
        for tune_id in tunes:
            self._delete_on_astria(self.astria.delete_tune, tune_id)
        for ids in prompts:
            self._delete_on_astria(self.astria.delete_prompt, *ids)
        deleted = self.store.delete_user(telegram_id)
        late_tunes, late_prompts = self._on_astria(deleted.tunes, deleted.prompts)
        for tune_id in late_tunes - tunes:
            forget_on_astria(self.astria.delete_tune, tune_id)
        for ids in late_prompts - prompts:
            forget_on_astria(self.astria.delete_prompt, *ids)
        log.info("user=%s deleted their data (models=%s)", telegram_id, deleted.models)
        return deleted.models

    def _generations(self, telegram_id: int):
        """Every generation of the user, page by page."""
        before = None
        while page := self.store.list_generations(telegram_id, limit=500, before_id=before):
            yield from page
            before = page[-1].id

    def _on_astria(
        self,
        tunes: Iterable[int | None],
        prompts: Iterable[tuple[str | None, int | None, str | None]],
    ) -> tuple[set[int], set[tuple[int, int]]]:
        """What to delete on Astria: the tunes, and the prompts as (the tune they were posted
        to, prompt id), from the tune ids and the (prompt id, its model's tune id, its model's
        type) triples of rows. A stored prompt id that is no Astria id is skipped (logged),
        never a crash."""
        on_astria = set()
        for prompt_id, tune_id, model_type in prompts:
            if prompt_id is None or tune_id is None:
                continue  # never acknowledged by Astria, or its model never was
            number = bounded_id(prompt_id)
            if number is None:
                log.warning("a malformed prompt id %r is not deleted on Astria", prompt_id[:32])
                continue
            on_astria.add((prompt_tune(self.settings, model_type, tune_id), number))
        return {t for t in tunes if t is not None}, on_astria

    @staticmethod
    def _delete_on_astria(delete, *ids: int) -> None:
        try:
            delete(*ids)
        except AstriaRejected as exc:
            if exc.status != 404:  # already gone on Astria's side is fine
                raise DeleteFailed(f"Astria refused to delete {ids[-1]}") from None
        except AstriaError:
            raise DeleteFailed("Astria is unavailable; try again later") from None

    def grant(self, telegram_id: int, amount: int, by: int, ref: str) -> int:
        """Credits granted by an admin, once per reference (the /grant message: handled again
        after a crash, it grants nothing more); the user's balance now."""
        if self.store.get_user(telegram_id) is None:
            raise NotFound(what="user")
        balance = self.store.grant(telegram_id, amount, "grant", f"{by}:{ref}")
        if balance is None:  # granted when the update was first handled
            log.info("user=%s grant by=%s ref=%s was made before", telegram_id, by, ref)
            user = self.store.get_user(telegram_id)
            if user is None:  # deleted since
                raise NotFound(what="user")
            return user.credits
        log.info(
            "user=%s delta=%+d reason=grant by=%s balance=%s", telegram_id, amount, by, balance
        )
        return balance

    def stats(self) -> dict:
        """Users, models, generations, and credits spent since midnight UTC."""
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return self.store.stats(midnight)
