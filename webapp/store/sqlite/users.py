"""Users, their credits and the ledger."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from webapp.records import (
    DeletedUser,
    LedgerEntry,
    NotEnoughCredits,
    User,
)
from webapp.store import rows
from webapp.store.sqlite.connection import Database, now, ts

LAST_ACTIVE_PRECISION = timedelta(minutes=1)


def _unchanged(row, username, first_name, last_name, language_code, at: datetime) -> bool:
    """The stored profile is current and `last_active` is fresh enough not to rewrite it."""
    return (
        row["status"] == "active"
        and (row["username"], row["first_name"], row["last_name"])
        == (username, first_name, last_name)
        and (language_code is None or row["language_code"] == language_code)
        and at - rows.when(row["last_active"]) < LAST_ACTIVE_PRECISION
    )


def change_credits(
    db: sqlite3.Connection, telegram_id: int, delta: int, reason: str, ref: str
) -> int | None:
    """Ledger row + balance change in the caller's transaction; None if (reason, ref) exists.

    A spend that would go below zero raises NotEnoughCredits before anything is written."""
    if delta < 0:
        row = db.execute(
            "SELECT credits FROM telegram_users WHERE telegram_id = ?", (telegram_id,)
        ).fetchone()
        have = row["credits"] if row else 0
        if have < -delta:
            raise NotEnoughCredits(need=-delta, have=have)
    inserted = db.execute(
        "INSERT INTO credit_ledger (telegram_user_id, delta, reason, ref, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (reason, ref) DO NOTHING",
        (telegram_id, delta, reason, ref, ts(now())),
    ).rowcount
    if not inserted:
        return None
    row = db.execute(
        "UPDATE telegram_users SET credits = credits + ? WHERE telegram_id = ? RETURNING credits",
        (delta, telegram_id),
    ).fetchone()
    return row["credits"]


def balance_of(db: sqlite3.Connection, telegram_id: int) -> int:
    """The user's credits, read in the caller's transaction."""
    row = db.execute(
        "SELECT credits FROM telegram_users WHERE telegram_id = ?", (telegram_id,)
    ).fetchone()
    return row["credits"] if row else 0


class Users(Database):
    """The store's user and credit methods."""

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
        """Create the user on first contact, else refresh the profile.

        The free credits come once per `signup_key` (a keyed hash of the Telegram id, kept after
        /delete), so deleting one's data and coming back does not earn them again."""
        at = now()
        known = self._one("SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        if known is not None and _unchanged(
            known, username, first_name, last_name, language_code, at
        ):
            return rows.user(known), False  # nothing to write: most updates end here
        at = ts(at)
        with self._write() as db:
            created = db.execute(
                "INSERT INTO telegram_users (telegram_id, username, first_name, last_name, "
                "language_code, created_at, last_active, credits) VALUES (?, ?, ?, ?, ?, ?, ?, 0) "
                "ON CONFLICT (telegram_id) DO NOTHING",
                (telegram_id, username, first_name, last_name, language_code, at, at),
            ).rowcount
            first_time = (
                created
                and db.execute(
                    "INSERT INTO signup_grants (key, created_at) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (signup_key, at),
                ).rowcount
            )
            if first_time and free_credits:
                change_credits(db, telegram_id, free_credits, "signup", str(telegram_id))
            if not created:
                db.execute(
                    "UPDATE telegram_users SET username = ?, first_name = ?, last_name = ?, "
                    "language_code = COALESCE(?, language_code), last_active = ?, "
                    "status = 'active' WHERE telegram_id = ?",
                    (username, first_name, last_name, language_code, at, telegram_id),
                )
            row = db.execute(
                "SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,)
            ).fetchone()
        return rows.user(row), bool(created)

    def get_user(self, telegram_id: int) -> User | None:
        """The user, or None."""
        row = self._one("SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        return rows.user(row) if row else None

    def grant(self, telegram_id: int, amount: int, reason: str, ref: str) -> int | None:
        """Add credits once per (reason, ref)."""
        with self._write() as db:
            return change_credits(db, telegram_id, amount, reason, ref)

    def ledger(self, telegram_id: int) -> list[LedgerEntry]:
        """Every credit change of the user, oldest first."""
        found = self._all(
            "SELECT * FROM credit_ledger WHERE telegram_user_id = ? ORDER BY id", (telegram_id,)
        )
        return [rows.ledger_entry(r) for r in found]

    def set_user_status(self, telegram_id: int, status: str) -> None:
        """Mark a user active or blocked."""
        with self._write() as db:
            db.execute(
                "UPDATE telegram_users SET status = ? WHERE telegram_id = ?", (status, telegram_id)
            )

    def delete_user(self, telegram_id: int) -> DeletedUser:
        """Delete every row of the user in one transaction; the Astria ids they named."""
        with self._write() as db:
            prompts = db.execute(
                "DELETE FROM telegram_prompts WHERE telegram_user_id = ? RETURNING prompt_id, "
                "model_id",
                (telegram_id,),
            ).fetchall()
            models = db.execute(
                "DELETE FROM telegram_models WHERE telegram_user_id = ? "
                "RETURNING id, model_id, model_type, cost",
                (telegram_id,),
            ).fetchall()
            db.execute("DELETE FROM credit_ledger WHERE telegram_user_id = ?", (telegram_id,))
            db.execute("DELETE FROM conversation_states WHERE key LIKE ?", (f"%:{telegram_id}",))
            db.execute("DELETE FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        model_of = {m["id"]: (m["model_id"], rows.legacy_type(m)) for m in models}
        return DeletedUser(
            models=len(models),
            tunes=tuple(m["model_id"] for m in models if m["model_id"] is not None),
            prompts=tuple(
                (p["prompt_id"], *model_of.get(p["model_id"], (None, "lora")))
                for p in prompts
                if p["prompt_id"]
            ),
        )

    def stats(self, since: datetime) -> dict:
        """Counts, and credits spent (net of refunds) since `since`."""
        row = self._one(
            "SELECT (SELECT COUNT(*) FROM telegram_users) AS users, "
            "(SELECT COUNT(*) FROM telegram_models) AS models, "
            "(SELECT COUNT(*) FROM telegram_models WHERE status = 'ready') AS models_ready, "
            "(SELECT COUNT(*) FROM telegram_prompts) AS generations, "
            "(SELECT COALESCE(-SUM(delta), 0) FROM credit_ledger WHERE created_at >= ? AND "
            "reason IN ('train', 'generate', 'train_refund', 'generate_refund')) AS spent_since, "
            "(SELECT COALESCE(SUM(stars), 0) FROM payments) AS stars_earned, "
            "(SELECT COALESCE(SUM(stars), 0) FROM payments WHERE refunded_at IS NOT NULL) "
            "AS stars_refunded, "
            "(SELECT COUNT(DISTINCT telegram_user_id) FROM payments) AS paying_users",
            (ts(since),),
        )
        return dict(row)
