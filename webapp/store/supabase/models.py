"""Models: a user's Astria tunes, from the charge to ready or failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from webapp.records import Model
from webapp.store import rows
from webapp.store.supabase.work import Kind, Work

MODELS = Kind(
    "telegram_models",
    "training",
    "model_id",
    "model",
    "claim_model_upload",
    rows.model,
    "upload_claimed_at",
)


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
        """Charge and insert a training model in one transaction (create_model())."""
        result = self._rpc(
            "create_model",
            p_telegram_id=telegram_id,
            p_name=name,
            p_class_name=class_name,
            p_title=title,
            p_photo_file_ids=list(photo_file_ids),
            p_cost=cost,
            p_model_type=model_type,
            p_characteristics=characteristics or None,
        )
        return rows.model(result["model"]), result["balance"]

    def get_model(self, model_id: int) -> Model | None:
        """One model, or None."""
        found = self._run(self._table("telegram_models").select("*").eq("id", model_id))
        return rows.model(found[0]) if found else None

    def list_models(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""
        found = self._run(
            self._table("telegram_models")
            .select("*")
            .eq("telegram_user_id", telegram_id)
            .order("id", desc=True)
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
        """Training models whose ETA (or creation) is before `before` (few: filtered here)."""
        found = self._run(self._table("telegram_models").select("*").eq("status", "training"))
        models = [rows.model(r) for r in found]
        return sorted((m for m in models if (m.eta or m.created_at) < before), key=lambda m: m.id)

    def mark_model_submitted(self, model_id: int, tune_id: int, eta: datetime | None) -> bool:
        """Record Astria's tune id and ETA."""
        eta_text = eta.isoformat() if eta else None
        return self._mark_submitted(MODELS, model_id, model_id=tune_id, eta=eta_text)

    def finish_model(
        self, model_id: int, tune_id: int | None, trained_at: datetime | None
    ) -> Model | None:
        """training → ready."""
        trained = (trained_at or datetime.now(UTC)).isoformat()
        return self._finish(MODELS, model_id, tune_id, trained_at=trained)

    def fail_model(self, model_id: int, error: str, refund: int) -> tuple[Model, int | None] | None:
        """training → failed, with the training charge refunded once (fail_model())."""
        return self._fail(MODELS, model_id, error, refund)
