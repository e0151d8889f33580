"""Photoshoots on Supabase: the charge, the settling and the refund are Postgres functions
(create_shoot, settle_shoot, fail_shoot in supabase/migrations); a prompt that came back is one
insert that a repeat of its Astria id leaves alone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from webapp.records import Generation, Shoot
from webapp.store import rows
from webapp.store.supabase.client import now
from webapp.store.supabase.work import Kind, Work, utc_text

SHOOTS = Kind("photoshoots", "processing", "prompt_ids", "shoot", "claim_shoot_submit",
              rows.shoot, "submit_claimed_at")  # fmt: skip


class Shoots(Work):
    """The store's photoshoot methods."""

    def create_shoot(
        self,
        telegram_id: int,
        *,
        model_id: int,
        pack_id: int,
        title: str,
        class_name: str,
        price: int,
        num_images: int,
        prompts: int,
        request_key: str | None = None,
        message_id: int | None = None,
    ) -> tuple[Shoot, int, bool]:
        """Charge and insert a processing order in one transaction (create_shoot())."""
        result = self._rpc(
            "create_shoot",
            p_telegram_id=telegram_id,
            p_model_id=model_id,
            p_pack_id=pack_id,
            p_title=title,
            p_class_name=class_name,
            p_price=price,
            p_num_images=num_images,
            p_prompts=prompts,
            p_request_key=request_key,
            p_message_id=message_id,
        )
        return rows.shoot(result["shoot"]), result["balance"], bool(result["created"])

    def get_shoot(self, shoot_id: int) -> Shoot | None:
        """One order, or None."""
        found = self._run(self._table("photoshoots").select("*").eq("id", shoot_id))
        return rows.shoot(found[0]) if found else None

    def list_shoots(self, telegram_id: int, *, limit: int = 20) -> list[Shoot]:
        """The user's orders, newest first."""
        query = self._table("photoshoots").select("*").eq("telegram_user_id", telegram_id)
        return [rows.shoot(r) for r in self._run(query.order("id", desc=True).limit(limit))]

    def claim_shoot_submit(self, shoot_id: int, lease_seconds: int) -> bool:
        """Take the lease to send the order to Astria."""
        return self._claim(SHOOTS, shoot_id, lease_seconds)

    def postpone_shoot_submit(self, shoot_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Let the submit be claimed again only from `free_at`."""
        self._postpone(SHOOTS, shoot_id, free_at, lease_seconds)

    def shoots_awaiting_submit(self) -> list[Shoot]:
        """Processing orders Astria has not accepted."""
        return self._awaiting(SHOOTS)

    def mark_shoot_submitted(self, shoot_id: int, prompt_ids: Sequence[str]) -> bool:
        """Astria accepted the run."""
        ids = [str(i) for i in prompt_ids]  # (kept even if its prompts all came back first)
        query = self._table("photoshoots").update({"prompt_ids": ids, "updated_at": now()})
        return bool(self._run(query.eq("id", shoot_id).is_("prompt_ids", "null")))

    def add_shoot_prompt(
        self, shoot: Shoot, prompt_id: str, images: Sequence[str], error: str | None
    ) -> Generation | None:
        """One prompt of the order, once per Astria prompt id."""
        row = {
            "telegram_user_id": shoot.telegram_user_id,
            "model_id": shoot.model_id,
            "prompt": shoot.title,
            "prompt_id": prompt_id,
            "status": "failed" if error is not None else "done",
            "images": list(images),
            "num_images": len(images),
            "error": error,
            "cost": 0,
            "shoot_id": shoot.id,
            "updated_at": now(),
        }
        query = self._table("telegram_prompts").upsert(
            row, on_conflict="shoot_id,prompt_id", ignore_duplicates=True
        )
        found = self._run(query)
        return rows.generation(found[0]) if found else None

    def shoot_prompts(self, shoot_id: int) -> list[Generation]:
        """The order's prompts that came back."""
        query = self._table("telegram_prompts").select("*").eq("shoot_id", shoot_id).order("id")
        return [rows.generation(r) for r in self._run(query)]

    def settle_shoot(self, shoot_id: int, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → done, `refund` back once (end_shoot())."""
        return self._end_shoot(shoot_id, "done", None, refund)

    def fail_shoot(self, shoot_id: int, error: str, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → failed, `refund` back once (end_shoot())."""
        return self._end_shoot(shoot_id, "failed", error, refund)

    def _end_shoot(self, shoot_id: int, status: str, error: str | None, refund: int):
        result = self._rpc("end_shoot", p_shoot_id=shoot_id, p_status=status, p_error=error,
                           p_refund=refund)  # fmt: skip
        return None if result is None else (rows.shoot(result["shoot"]), result["balance"])

    def shoots_in_progress(self, before: datetime) -> list[Shoot]:
        """Processing orders created before `before`."""
        query = self._table("photoshoots").select("*").eq("status", "processing")
        found = self._run(query.lt("created_at", utc_text(before)).order("id"))
        return [rows.shoot(r) for r in found]

    def set_like(
        self,
        telegram_id: int,
        generation_id: int,
        image: int,
        liked: bool,
        *,
        topic: str | None,
        lang: str,
    ) -> bool:
        """Like one picture (once) or take the like back."""
        if not liked:
            query = self._table("likes").delete().eq("telegram_user_id", telegram_id)
            return bool(self._run(query.eq("generation_id", generation_id).eq("image", image)))
        row = {"telegram_user_id": telegram_id, "generation_id": generation_id, "image": image,
               "topic": topic, "lang": lang}  # fmt: skip
        query = self._table("likes").upsert(
            row, on_conflict="telegram_user_id,generation_id,image", ignore_duplicates=True
        )
        return bool(self._run(query))

    def liked_images(self, telegram_id: int, generation_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The user's likes among those generations."""
        ids = [int(i) for i in generation_ids]
        if not ids:
            return set()
        query = self._table("likes").select("generation_id,image")
        found = self._run(query.eq("telegram_user_id", telegram_id).in_("generation_id", ids))
        return {(r["generation_id"], r["image"]) for r in found}

    def like_counts(self, lang: str) -> dict[str, int]:
        """Likes per topic from users of `lang` (like_counts())."""
        return {str(k): int(v) for k, v in (self._rpc("like_counts", p_lang=lang) or {}).items()}
