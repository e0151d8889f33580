"""Rows (SQLite rows or PostgREST dicts) → typed records, in one place for every store."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from webapp.records import (
    Generation,
    GenerationStatus,
    LedgerEntry,
    Model,
    ModelStatus,
    Order,
    OrderKind,
    Payment,
    Shoot,
    Subscription,
    User,
    UserStatus,
)


def when(value) -> datetime | None:
    """An ISO timestamp (text) or a datetime → an aware datetime, or None."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _json_list(value) -> tuple:
    """A JSON array stored as text (SQLite) or already decoded (PostgREST) → a tuple."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(value)


def _json_object(value) -> dict | None:
    """A JSON object stored as text (SQLite) or already decoded (PostgREST), or None."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


def user(row: Mapping) -> User:
    """telegram_users → User."""
    return User(
        id=row["id"],
        telegram_id=row["telegram_id"],
        username=row["username"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        language_code=row["language_code"],
        credits=row["credits"],
        status=UserStatus(row["status"] or "active"),
        created_at=when(row["created_at"]),
    )


def legacy_type(row: Mapping) -> str | None:
    """A model's type, or None for a model made before models had one (its cost is NULL; the
    migration gave it the column's default, not what the deployment trained then)."""
    return row["model_type"] if row["cost"] is not None else None


def model(row: Mapping) -> Model:
    """telegram_models → Model (`model_id` there is Astria's tune id)."""
    return Model(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        name=row["name"],
        class_name=row["class_name"],
        status=ModelStatus(row["status"] or "training"),
        tune_id=row["model_id"],
        title=row["title"] or "",
        eta=when(row["eta"]),
        error=row["error"],
        photo_file_ids=_json_list(row["photo_file_ids"]),
        created_at=when(row["created_at"]),
        trained_at=when(row["trained_at"]),
        model_type=legacy_type(row),
        cost=row["cost"],
        characteristics=_json_object(row["characteristics"]),
    )


def generation(row: Mapping) -> Generation:
    """telegram_prompts → Generation (`model_id` there is our model's id)."""
    return Generation(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        model_id=row["model_id"],
        prompt=row["prompt"],
        status=GenerationStatus(row["status"] or "processing"),
        prompt_id=row["prompt_id"],
        num_images=row["num_images"],
        images=_json_list(row["images"]),
        error=row["error"],
        created_at=when(row["created_at"]),
        style=row["style"],
        hd=bool(row["hd"]),
        cost=row["cost"],
        shoot_id=row["shoot_id"],
    )


def shoot(row: Mapping) -> Shoot:
    """photoshoots → Shoot."""
    run = row["prompt_ids"]
    return Shoot(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        model_id=row["model_id"],
        pack_id=row["pack_id"],
        title=row["title"],
        class_name=row["class_name"],
        price=row["price"],
        num_images=row["num_images"],
        prompts=row["prompts"],
        status=GenerationStatus(row["status"]),
        prompt_ids=None if run is None else tuple(str(i) for i in _json_list(run)),
        created_at=when(row["created_at"]),
        refunded=row["refunded"] or 0,
        error=row["error"],
        message_id=row["message_id"],
    )


def ledger_entry(row: Mapping) -> LedgerEntry:
    """credit_ledger → LedgerEntry."""
    return LedgerEntry(
        row["telegram_user_id"], row["delta"], row["reason"], row["ref"], when(row["created_at"])
    )


def order(row: Mapping) -> Order:
    """orders → Order."""
    return Order(
        id=row["id"],
        telegram_id=row["telegram_user_id"],
        credits=row["credits"],
        stars=row["stars"],
        created_at=when(row["created_at"]),
        paid_at=when(row["paid_at"]),
        kind=OrderKind(row["kind"]),
    )


def payment(row: Mapping) -> Payment:
    """payments → Payment."""
    return Payment(
        id=row["id"],
        charge_id=row["charge_id"],
        telegram_id=row["telegram_user_id"],
        order_id=row["order_id"],
        credits=row["credits"],
        stars=row["stars"],
        created_at=when(row["created_at"]),
        refunded_at=when(row["refunded_at"]),
        taken_back=row["taken_back"],
        expires_at=when(row["expires_at"]),
    )


def subscription(row: Mapping) -> Subscription:
    """subscriptions → Subscription."""
    return Subscription(
        telegram_id=row["telegram_user_id"],
        charge_id=row["charge_id"],
        expires_at=when(row["expires_at"]),
        canceled=bool(row["canceled"]),
    )
