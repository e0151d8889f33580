"""The store interface: every read and write of users, models, generations, credits and chat state.

Credits change only inside the store's atomic operations (spend-if-enough, refund-once, grant-once),
each recorded in the ledger, so `telegram_users.credits` always equals the sum of the user's ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from webapp.records import (
    Begun,
    Conversation,
    DeletedUser,
    Generation,
    LedgerEntry,
    Model,
    Order,
    OrderKind,
    Payment,
    StateWrite,
    Subscription,
    User,
)
from webapp.settings import Settings
from webapp.store.shoots import ShootStore


class Store(ShootStore, Protocol):
    """What the services need from storage; SQLite and Supabase implement the same methods."""

    def ping(self) -> None:
        """Raise StoreError when storage cannot be reached."""

    def close(self) -> None:
        """Release connections (at shutdown)."""

    # users and credits
    def ensure_user(
        self,
        telegram_id: int,
        *,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language_code: str | None,
        free_credits: int,
        signup_key: str,
    ) -> tuple[User, bool]:
        """Create the user on first contact, else refresh the profile; the free credits come
        once per `signup_key` ever (it survives /delete)."""

    def get_user(self, telegram_id: int) -> User | None:
        """The user, or None."""

    def grant(self, telegram_id: int, amount: int, reason: str, ref: str) -> int | None:
        """Add credits once per (reason, ref); the new balance, or None when already granted."""

    def ledger(self, telegram_id: int) -> list[LedgerEntry]:
        """Every credit change of the user, oldest first."""

    def set_user_status(self, telegram_id: int, status: str) -> None:
        """Mark a user active, or blocked (they blocked the bot: stop writing to them)."""

    def delete_user(self, telegram_id: int) -> DeletedUser:
        """Delete every row of the user (generations, models, ledger, chat state, the user) in
        one transaction; what Astria may still hold of theirs comes back, read as it was
        deleted (work that reaches Astria afterwards finds no row and deletes itself)."""

    def stats(self, since: datetime) -> dict:
        """users, models, models_ready, generations, spent_since (net credits), and of the
        payments: stars_earned, stars_refunded, paying_users."""

    # webhook deliveries: claimed for a lease, then done
    def begin_update(
        self,
        update_id: int,
        telegram_id: int,
        *,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language_code: str | None,
        free_credits: int,
        signup_key: str,
        state_key: str,
        holder: str,
        lease: float,
    ) -> Begun:
        """claim_update, ensure_user and get_conversation(state_key) in one go (one round trip
        on Supabase); nothing but the claim is tried for a redelivered update."""

    def claim_update(self, update_id: int, holder: str, lease: float) -> Begun:
        """Claim an update for `lease` seconds as `holder` (a process): the first time it is
        seen, or again when it is not done and its claim was not renewed within its lease
        (the process handling it died). Else not claimed: done, or `busy` (with when its
        claim was last renewed), or done (with the webhook answer it carried, if any)."""

    def finish_update(
        self,
        update_id: int,
        holder: str,
        writes: Sequence[StateWrite] = (),
        answer: dict | None = None,
    ) -> bool:
        """Mark the update done with the webhook `answer` it carries (a redelivery's answer:
        `claim_update` gives it) and write the chat states it left, in one transaction; False,
        with nothing written, when `holder` lost its claim (another process took it over)."""

    def updates_done(self, done: Sequence[tuple[int, dict | None]], holder: str) -> None:
        """Mark updates of `holder` that wrote nothing done, each with its answer (one call)."""

    def renew_updates(self, update_ids: Sequence[int], holder: str) -> None:
        """Renew `holder`'s claims on updates it is still handling (in one call)."""

    # conversation state
    def get_conversation(self, key: str) -> Conversation:
        """The chat flow state under a key (empty when none)."""

    def set_conversation(self, key: str, state: str | None, data: dict) -> None:
        """Write the chat flow state under a key."""

    def clear_conversation(self, key: str) -> None:
        """Forget the chat flow state under a key."""

    # marks: small facts about a user's work, kept for a while (they go with the user)
    def mark(
        self, kind: str, key: str, telegram_id: int, data: dict | None = None, replace=False
    ) -> bool:
        """Keep a mark; True when it was written: not there before (or `replace`), and its user
        still exists."""

    def get_mark(self, kind: str, key: str) -> dict | None:
        """A mark's data; None when there is none."""

    def drop_mark(self, kind: str, key: str) -> None:
        """Forget one mark."""

    def forget_marks(self, kind: str, before: datetime) -> int:
        """Forget the marks of a kind made before `before`; how many went."""

    # models
    def create_model(
        self,
        telegram_id: int,
        *,
        name: str,
        class_name: str,
        title: str,
        photo_file_ids: Sequence[str],
        cost: int,
        model_type: str = "lora",
        characteristics: dict | None = None,
    ) -> tuple[Model, int]:
        """Charge `cost` and insert a training model of `model_type` (lora or faceid) in one
        transaction; (model, new balance). Once per `title`: a repeat charges nothing and
        gives the model made before, with today's balance.

        Raises NotEnoughCredits and writes nothing when the balance is short."""

    def get_model(self, model_id: int) -> Model | None:
        """One model, or None."""

    def list_models(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""

    def claim_model_upload(self, model_id: int, lease_seconds: int) -> bool:
        """Take the right to upload a model's photos to Astria (a lease, so a crash frees it)."""

    def postpone_model_upload(self, model_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Let the upload be claimed again only from `free_at` (Astria is down: try later)."""

    def models_awaiting_upload(self) -> list[Model]:
        """Training models that Astria has not acknowledged yet."""

    def models_in_progress(self, before: datetime) -> list[Model]:
        """Training models whose ETA (or, without one, creation) is before `before`."""

    def mark_model_submitted(self, model_id: int, tune_id: int, eta: datetime | None) -> bool:
        """Record Astria's tune id and ETA on a training model."""

    def finish_model(
        self, model_id: int, tune_id: int | None, trained_at: datetime | None
    ) -> Model | None:
        """training → ready; the updated model, or None when it was not training."""

    def fail_model(self, model_id: int, error: str, refund: int) -> tuple[Model, int | None] | None:
        """training → failed and refund once; (model, new balance), None if not training."""

    # generations
    def create_generation(
        self,
        telegram_id: int,
        *,
        model_id: int,
        prompt: str,
        num_images: int,
        cost: int,
        style: str | None = None,
        hd: bool = False,
        request_key: str | None = None,
    ) -> tuple[Generation, int]:
        """Charge `cost` and insert a processing generation (in a catalogue `style`, HD or not)
        in one transaction; once per `request_key` (a repeat charges nothing and gives the
        generation made before, with today's balance)."""

    def get_generation(self, generation_id: int) -> Generation | None:
        """One generation, or None."""

    def list_generations(
        self,
        telegram_id: int,
        *,
        model_id: int | None = None,
        limit: int = 20,
        before_id: int | None = None,
    ) -> list[Generation]:
        """The user's generations, newest first, keyset-paginated by id."""

    def claim_generation_submit(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the right to send a generation to Astria (a lease, so a crash frees it)."""

    def claim_delivery(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the right to send a done generation's album (a lease, so a crash frees it)."""

    def mark_delivered(self, generation_id: int) -> None:
        """The album went out."""

    def generations_awaiting_delivery(self) -> list[Generation]:
        """Done generations whose album has not gone out (a delivery cut short)."""

    def postpone_generation_submit(
        self, generation_id: int, free_at: datetime, lease_seconds: int
    ) -> None:
        """Let the submit be claimed again only from `free_at` (Astria is down: try later)."""

    def generations_awaiting_submit(self) -> list[Generation]:
        """Processing generations that Astria has not acknowledged yet."""

    def generations_in_progress(self, before: datetime) -> list[Generation]:
        """Processing generations created before `before`."""

    def mark_generation_submitted(self, generation_id: int, prompt_id: str) -> bool:
        """Record Astria's prompt id on a processing generation."""

    def finish_generation(
        self, generation_id: int, images: Sequence[str], prompt_id: str | None
    ) -> Generation | None:
        """processing → done with its images; None when it was not processing."""

    def fail_generation(
        self, generation_id: int, error: str, refund: int
    ) -> tuple[Generation, int | None] | None:
        """processing → failed and refund once; None when it was not processing."""

    # selling credits for Telegram Stars
    def create_order(
        self,
        telegram_id: int,
        credits: int,
        stars: int,
        kind: OrderKind = OrderKind.PACK,
        request_key: str | None = None,
    ) -> Order:
        """A new unpaid order for a pack or the plan (the invoice's payload is its id); once
        per `request_key` (a repeat gives the order made before)."""

    def get_order(self, order_id: int) -> Order | None:
        """One order, or None."""

    def record_payment(
        self,
        telegram_id: int,
        charge_id: str,
        order_id: int | None,
        credits: int,
        stars: int,
        expires_at: datetime | None = None,
    ) -> tuple[Payment, int | None]:
        """Keep a payment, mark its order paid and grant `credits`, once per charge id, in one
        transaction (a plan's payment, with `expires_at`, also renews the user's subscription):
        (payment, new balance), or (the payment kept before, None) for a repeat."""

    def get_payment(self, charge_id: str) -> Payment | None:
        """One payment by its telegram_payment_charge_id, or None."""

    def get_payment_by_id(self, payment_id: int) -> Payment | None:
        """One payment by our id, or None."""

    def get_subscription(self, telegram_id: int) -> Subscription | None:
        """The user's monthly plan, or None."""

    def set_subscription_canceled(self, telegram_id: int, canceled: bool) -> None:
        """Record that the plan will (not) renew."""

    def end_subscription(self, telegram_id: int) -> None:
        """The plan ends now and will not renew (its payment was refunded)."""

    def payments_of(self, telegram_id: int, limit: int = 5) -> list[Payment]:
        """The user's latest payments, newest first."""

    def refund_payment(self, charge_id: str) -> Payment | None:
        """Mark a payment refunded and take back its credits (what is left of them), once: the
        refunded payment, or None when it is unknown or was refunded before."""


def open_store(settings: Settings) -> Store:
    """The store the settings ask for: Supabase when both its variables are set, else SQLite."""
    if settings.supabase_url and settings.supabase_service_role_key:
        from webapp.store.supabase import SupabaseStore

        return SupabaseStore(settings.supabase_url, settings.supabase_service_role_key)
    from webapp.store.sqlite import SQLiteStore

    return SQLiteStore.from_url(settings.database_url)
