"""Models: a user's Astria tunes, from the charge to ready or failed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from webapp.records import Model
from webapp.store import rows
from webapp.store.sqlite.connection import now, ts
from webapp.store.sqlite.users import balance_of, change_credits
from webapp.store.sqlite.work import Kind, Work

MODELS = Kind("telegram_models", "training", "model_id", "upload_claimed_at", "train", rows.model)


class Models(Work):
    """The store's model methods."""

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
        """Charge and insert a training model in one transaction; a repeat of its title
        (the update that asked for it, handled again) charges nothing and gives that model."""
        at = ts(now())
        photos = json.dumps(list(photo_file_ids))
        with self._write() as db:
            made = db.execute(
                "SELECT * FROM telegram_models WHERE title = ? AND telegram_user_id = ?",
                (title, telegram_id),
            ).fetchone()
            if made is not None:
                return rows.model(made), balance_of(db, telegram_id)
            row = db.execute(
                "INSERT INTO telegram_models (telegram_user_id, created_at, status, name, "
                "class_name, title, photo_file_ids, updated_at, model_type, cost, "
                "characteristics) VALUES (?, ?, 'training', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    telegram_id,
                    at,
                    name,
                    class_name,
                    title,
                    photos,
                    at,
                    model_type,
                    cost,
                    json.dumps(characteristics) if characteristics else None,
                ),
            ).fetchone()
            model = rows.model(row)
            balance = change_credits(db, telegram_id, -cost, "train", str(model.id))
        return model, balance

    def get_model(self, model_id: int) -> Model | None:
        """One model, or None."""
        row = self._one("SELECT * FROM telegram_models WHERE id = ?", (model_id,))
        return rows.model(row) if row else None

    def list_models(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""
        found = self._all(
            "SELECT * FROM telegram_models WHERE telegram_user_id = ? ORDER BY id DESC",
            (telegram_id,),
        )
        return [rows.model(r) for r in found]

    def claim_model_upload(self, model_id: int, lease_seconds: int) -> bool:
        """Take the upload lease on a training model Astria has not acknowledged."""
        return self._claim(MODELS, model_id, lease_seconds)

    def postpone_model_upload(self, model_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Let the upload be claimed again only from `free_at`."""
        self._postpone(MODELS, model_id, free_at, lease_seconds)

    def models_awaiting_upload(self) -> list[Model]:
        """Training models without an Astria tune id."""
        return self._awaiting(MODELS)

    def models_in_progress(self, before: datetime) -> list[Model]:
        """Training models whose ETA (or, without one, creation) is before `before`."""
        return self._in_progress(MODELS, "COALESCE(eta, created_at)", before)

    def mark_model_submitted(self, model_id: int, tune_id: int, eta: datetime | None) -> bool:
        """Record Astria's tune id and ETA."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_models SET model_id = ?, eta = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'training'",
                    (tune_id, ts(eta), ts(now()), model_id),
                ).rowcount
            )

    def finish_model(
        self, model_id: int, tune_id: int | None, trained_at: datetime | None
    ) -> Model | None:
        """training → ready."""
        return self._finish(MODELS, model_id, model_id=tune_id, trained_at=ts(trained_at or now()))

    def fail_model(self, model_id: int, error: str, refund: int) -> tuple[Model, int | None] | None:
        """training → failed, with the training charge refunded once."""
        return self._fail(MODELS, model_id, error, refund)
