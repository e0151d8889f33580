"""Generations: a model's Astria prompts, from the charge to done or failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from webapp.records import Generation
from webapp.store import rows
from webapp.store.supabase.client import now
from webapp.store.supabase.work import Kind, Work, utc_text

GENERATIONS = Kind(
    "telegram_prompts",
    "processing",
    "prompt_id",
    "generation",
    "claim_generation_submit",
    rows.generation,
    "submit_claimed_at",
)


class Generations(Work):
    """The store's generation methods."""

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
        """Charge and insert a processing generation in one transaction (create_generation())."""
        result = self._rpc(
            "create_generation",
            p_telegram_id=telegram_id,
            p_model_id=model_id,
            p_prompt=prompt,
            p_num_images=num_images,
            p_cost=cost,
            p_style=style,
            p_hd=hd,
            p_request_key=request_key,
        )
        return rows.generation(result["generation"]), result["balance"]

    def get_generation(self, generation_id: int) -> Generation | None:
        """One generation, or None."""
        found = self._run(self._table("telegram_prompts").select("*").eq("id", generation_id))
        return rows.generation(found[0]) if found else None

    def list_generations(
        self,
        telegram_id: int,
        *,
        model_id: int | None = None,
        limit: int = 20,
        before_id: int | None = None,
    ) -> list[Generation]:
        """The user's generations, newest first (a photoshoot's failed prompts are not shown:
        the order refunds them)."""
        query = self._table("telegram_prompts").select("*").eq("telegram_user_id", telegram_id)
        query = query.or_("shoot_id.is.null,status.eq.done")
        if model_id is not None:
            query = query.eq("model_id", model_id)
        if before_id is not None:
            query = query.lt("id", before_id)
        found = self._run(query.order("id", desc=True).limit(limit))
        return [rows.generation(r) for r in found]

    def claim_generation_submit(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the submit lease on a processing generation Astria has not acknowledged."""
        return self._claim(GENERATIONS, generation_id, lease_seconds)

    def claim_delivery(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the delivery lease on a done generation whose album has not gone out."""
        return bool(
            self._rpc(
                "claim_delivery", p_generation_id=generation_id, p_lease_seconds=lease_seconds
            )
        )

    def mark_delivered(self, generation_id: int) -> None:
        """The album went out."""
        self._run(
            self._table("telegram_prompts").update({"delivered_at": now()}).eq("id", generation_id)
        )

    def generations_awaiting_delivery(self) -> list[Generation]:
        """Done generations whose album has not gone out, oldest first."""
        found = self._run(
            self._table("telegram_prompts")
            .select("*")
            .eq("status", "done")
            .is_("delivered_at", "null")
            .order("id")
        )
        return [rows.generation(r) for r in found]

    def postpone_generation_submit(
        self, generation_id: int, free_at: datetime, lease_seconds: int
    ) -> None:
        """Let the submit be claimed again only from `free_at`."""
        self._postpone(GENERATIONS, generation_id, free_at, lease_seconds)

    def generations_awaiting_submit(self) -> list[Generation]:
        """Processing generations without an Astria prompt id."""
        return self._awaiting(GENERATIONS)

    def generations_in_progress(self, before: datetime) -> list[Generation]:
        """Processing generations created before `before`."""
        found = self._run(
            self._table("telegram_prompts")
            .select("*")
            .eq("status", "processing")
            .lt("created_at", utc_text(before))
            .order("id")
        )
        return [rows.generation(r) for r in found]

    def mark_generation_submitted(self, generation_id: int, prompt_id: str) -> bool:
        """Record Astria's prompt id."""
        return self._mark_submitted(GENERATIONS, generation_id, prompt_id=prompt_id)

    def finish_generation(
        self, generation_id: int, images: Sequence[str], prompt_id: str | None
    ) -> Generation | None:
        """processing → done."""
        return self._finish(GENERATIONS, generation_id, prompt_id, images=list(images))

    def fail_generation(
        self, generation_id: int, error: str, refund: int
    ) -> tuple[Generation, int | None] | None:
        """processing → failed, with the charge refunded once (fail_generation())."""
        return self._fail(GENERATIONS, generation_id, error, refund)
