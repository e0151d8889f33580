"""Photoshoots: an order charged once, carried to Astria, its prompts kept as they come back,
then settled with a refund for what never came (see webapp/store/shoots.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from webapp.records import Generation, Shoot
from webapp.store import rows
from webapp.store.sqlite.connection import now, ts
from webapp.store.sqlite.users import balance_of, change_credits
from webapp.store.sqlite.work import Kind, Work

SHOOTS = Kind("photoshoots", "processing", "prompt_ids", "submit_claimed_at", "photoshoot",
              rows.shoot)  # fmt: skip


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
        """Charge and insert a processing order in one transaction, once per `request_key`."""
        at = ts(now())
        with self._write() as db:
            if request_key is not None:
                made = db.execute(
                    "SELECT * FROM photoshoots WHERE telegram_user_id = ? AND request_key = ?",
                    (telegram_id, request_key),
                ).fetchone()
                if made is not None:
                    return rows.shoot(made), balance_of(db, telegram_id), False
            row = db.execute(
                "INSERT INTO photoshoots (telegram_user_id, model_id, pack_id, title, class_name, "
                "price, num_images, prompts, request_key, message_id, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    telegram_id,
                    model_id,
                    pack_id,
                    title,
                    class_name,
                    price,
                    num_images,
                    prompts,
                    request_key,
                    message_id,
                    at,
                    at,
                ),  # fmt: skip
            ).fetchone()
            shoot = rows.shoot(row)
            balance = change_credits(db, telegram_id, -price, "photoshoot", str(shoot.id))
        return shoot, balance, True

    def get_shoot(self, shoot_id: int) -> Shoot | None:
        """One order, or None."""
        row = self._one("SELECT * FROM photoshoots WHERE id = ?", (shoot_id,))
        return rows.shoot(row) if row else None

    def list_shoots(self, telegram_id: int, *, limit: int = 20) -> list[Shoot]:
        """The user's orders, newest first."""
        found = self._all(
            "SELECT * FROM photoshoots WHERE telegram_user_id = ? ORDER BY id DESC LIMIT ?",
            (telegram_id, limit),
        )
        return [rows.shoot(r) for r in found]

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
        """Astria accepted the run (kept even if its prompts all came back first)."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE photoshoots SET prompt_ids = ?, updated_at = ? "
                    "WHERE id = ? AND prompt_ids IS NULL",
                    (json.dumps([str(i) for i in prompt_ids]), ts(now()), shoot_id),
                ).rowcount
            )

    def add_shoot_prompt(
        self, shoot: Shoot, prompt_id: str, images: Sequence[str], error: str | None
    ) -> Generation | None:
        """One prompt of the order, once per Astria prompt id."""
        at = ts(now())
        status = "failed" if error is not None else "done"
        with self._write() as db:
            row = db.execute(
                "INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, prompt_id, "
                "created_at, status, images, num_images, error, updated_at, cost, shoot_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) "
                "ON CONFLICT (shoot_id, prompt_id) DO NOTHING RETURNING *",
                (
                    shoot.telegram_user_id,
                    shoot.model_id,
                    shoot.title,
                    prompt_id,
                    at,
                    status,
                    json.dumps(list(images)),
                    len(images),
                    error,
                    at,
                    shoot.id,
                ),  # fmt: skip
            ).fetchone()
        return rows.generation(row) if row else None

    def shoot_prompts(self, shoot_id: int) -> list[Generation]:
        """The order's prompts that came back."""
        found = self._all("SELECT * FROM telegram_prompts WHERE shoot_id = ? ORDER BY id",
                          (shoot_id,))  # fmt: skip
        return [rows.generation(r) for r in found]

    def settle_shoot(self, shoot_id: int, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → done, `refund` back once."""
        return self._end_shoot(shoot_id, "done", None, refund)

    def fail_shoot(self, shoot_id: int, error: str, refund: int) -> tuple[Shoot, int | None] | None:
        """processing → failed, `refund` back once."""
        return self._end_shoot(shoot_id, "failed", error, refund)

    def _end_shoot(self, shoot_id: int, status: str, error: str | None, refund: int):
        with self._write() as db:
            row = db.execute(
                "UPDATE photoshoots SET status = ?, error = ?, refunded = ?, updated_at = ? "
                "WHERE id = ? AND status = 'processing' RETURNING *",
                (status, error, refund, ts(now()), shoot_id),
            ).fetchone()
            if row is None:
                return None
            shoot = rows.shoot(row)
            balance = None
            if refund:
                balance = change_credits(db, shoot.telegram_user_id, refund, "photoshoot_refund",
                                         str(shoot.id))  # fmt: skip
        return shoot, balance

    def shoots_in_progress(self, before: datetime) -> list[Shoot]:
        """Processing orders created before `before`."""
        return self._in_progress(SHOOTS, "created_at", before)

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
        with self._write() as db:
            if not liked:
                return bool(db.execute(
                    "DELETE FROM likes WHERE telegram_user_id = ? AND generation_id = ? "
                    "AND image = ?", (telegram_id, generation_id, image)).rowcount)  # fmt: skip
            return bool(db.execute(
                "INSERT INTO likes (telegram_user_id, generation_id, image, topic, lang, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (telegram_id, generation_id, image, topic, lang, ts(now()))).rowcount)  # fmt: skip

    def liked_images(self, telegram_id: int, generation_ids: Iterable[int]) -> set[tuple[int, int]]:
        """The user's likes among those generations."""
        ids = [int(i) for i in generation_ids]
        if not ids:
            return set()
        marks = ", ".join("?" * len(ids))
        found = self._all(
            f"SELECT generation_id, image FROM likes WHERE telegram_user_id = ? "
            f"AND generation_id IN ({marks})",
            (telegram_id, *ids),
        )
        return {(r["generation_id"], r["image"]) for r in found}

    def like_counts(self, lang: str) -> dict[str, int]:
        """Likes per topic from users of `lang`."""
        found = self._all(
            "SELECT topic, COUNT(*) AS n FROM likes WHERE lang = ? AND topic IS NOT NULL "
            "GROUP BY topic",
            (lang,),
        )
        return {r["topic"]: r["n"] for r in found}
