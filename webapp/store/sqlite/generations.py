"""Generations: a model's Astria prompts, from the charge to done or failed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from webapp.records import Generation
from webapp.store import rows
from webapp.store.sqlite.connection import now, ts
from webapp.store.sqlite.users import balance_of, change_credits
from webapp.store.sqlite.work import Kind, Work

GENERATIONS = Kind(
    "telegram_prompts", "processing", "prompt_id", "submit_claimed_at", "generate", rows.generation
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
        """Charge and insert a processing generation in one transaction; a repeat of its
        `request_key` (the update that asked for it, handled again) charges nothing and gives
        that generation."""
        at = ts(now())
        with self._write() as db:
            if request_key is not None:
                made = db.execute(
                    "SELECT * FROM telegram_prompts WHERE telegram_user_id = ? AND request_key = ?",
                    (telegram_id, request_key),
                ).fetchone()
                if made is not None:
                    return rows.generation(made), balance_of(db, telegram_id)
            row = db.execute(
                "INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, created_at, "
                "status, images, num_images, updated_at, style, hd, cost, request_key) "
                "VALUES (?, ?, ?, ?, 'processing', '[]', ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    telegram_id,
                    model_id,
                    prompt,
                    at,
                    num_images,
                    at,
                    style,
                    int(hd),
                    cost,
                    request_key,
                ),  # fmt: skip
            ).fetchone()
            generation = rows.generation(row)
            balance = change_credits(db, telegram_id, -cost, "generate", str(generation.id))
        return generation, balance

    def get_generation(self, generation_id: int) -> Generation | None:
        """One generation, or None."""
        row = self._one("SELECT * FROM telegram_prompts WHERE id = ?", (generation_id,))
        return rows.generation(row) if row else None

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
        sql = "SELECT * FROM telegram_prompts WHERE telegram_user_id = ? "
        sql += "AND (shoot_id IS NULL OR status = 'done')"
        params: list = [telegram_id]
        if model_id is not None:
            sql += " AND model_id = ?"
            params.append(model_id)
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [rows.generation(r) for r in self._all(sql, params)]

    def claim_generation_submit(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the submit lease on a processing generation Astria has not acknowledged."""
        return self._claim(GENERATIONS, generation_id, lease_seconds)

    def claim_delivery(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the delivery lease on a done generation whose album has not gone out."""
        at = now()
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_prompts SET deliver_claimed_at = ? WHERE id = ? "
                    "AND status = 'done' AND delivered_at IS NULL "
                    "AND (deliver_claimed_at IS NULL OR deliver_claimed_at <= ?)",
                    (ts(at), generation_id, ts(at - timedelta(seconds=lease_seconds))),
                ).rowcount
            )

    def mark_delivered(self, generation_id: int) -> None:
        """The album went out."""
        with self._write() as db:
            db.execute(
                "UPDATE telegram_prompts SET delivered_at = ? WHERE id = ?",
                (ts(now()), generation_id),
            )

    def generations_awaiting_delivery(self) -> list[Generation]:
        """Done generations whose album has not gone out, oldest first."""
        found = self._all(
            "SELECT * FROM telegram_prompts WHERE status = 'done' AND delivered_at IS NULL "
            "ORDER BY id"
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
        return self._in_progress(GENERATIONS, "created_at", before)

    def mark_generation_submitted(self, generation_id: int, prompt_id: str) -> bool:
        """Record Astria's prompt id."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_prompts SET prompt_id = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'processing'",
                    (prompt_id, ts(now()), generation_id),
                ).rowcount
            )

    def finish_generation(
        self, generation_id: int, images: Sequence[str], prompt_id: str | None
    ) -> Generation | None:
        """processing → done."""
        images = json.dumps(list(images))
        return self._finish(GENERATIONS, generation_id, images=images, prompt_id=prompt_id)

    def fail_generation(
        self, generation_id: int, error: str, refund: int
    ) -> tuple[Generation, int | None] | None:
        """processing → failed, with the charge refunded once."""
        return self._fail(GENERATIONS, generation_id, error, refund)
