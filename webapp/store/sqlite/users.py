"""Users, their credits and the ledger; the webhook's processed updates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from webapp.records import (
    Begun,
    DeletedUser,
    LedgerEntry,
    NotEnoughCredits,
    StateWrite,
    StoreError,
    User,
)
from webapp.store import rows
from webapp.store.sqlite.connection import Database, now, ts
from webapp.store.sqlite.conversations import write_state

LAST_ACTIVE_PRECISION = timedelta(minutes=1)
UPDATE_ID_TTL = timedelta(days=7)  # Telegram keeps undelivered updates for 24 h


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


CLAIMED = Begun(True)


def _json(answer: dict | None) -> str | None:
    return json.dumps(answer, ensure_ascii=False) if answer is not None else None


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

    def claim_update(self, update_id: int, holder: str, lease: float) -> Begun:
        """Claim an update for `lease` seconds as `holder`: the first time it is seen (one
        insert, as fast as the claims before leases), or when the process that claimed it
        stopped renewing its lease before it was done (one update, atomic on its own: of two
        processes trying, one takes it). Else what the claim found."""
        at = now()
        stamp = ts(at)
        try:
            db = self._db()
            if db.execute(
                "INSERT INTO processed_updates (update_id, received_at, claimed_at, claimed_by) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (update_id, stamp, stamp, holder),
            ).rowcount:
                return CLAIMED
            if db.execute(
                "UPDATE processed_updates SET claimed_at = ?, claimed_by = ? WHERE update_id = ? "
                "AND done_at IS NULL AND claimed_by IS NOT NULL AND claimed_at < ?",
                (stamp, holder, update_id, ts(at - timedelta(seconds=lease))),
            ).rowcount:
                return Begun(True, taken_over=True)
            found = db.execute(
                "SELECT claimed_at, claimed_by, done_at, answer FROM processed_updates "
                "WHERE update_id = ?",
                (update_id,),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc
        if found is None or found["done_at"] is not None or found["claimed_by"] is None:
            answer = found["answer"] if found is not None else None  # done (or a week old)
            return Begun(False, answer=json.loads(answer) if answer else None)
        return Begun(False, busy=True, held_at=found["claimed_at"], held_by=found["claimed_by"])

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
        """claim_update, ensure_user and get_conversation, one after the other (in-process:
        there is no round trip to save)."""
        begun = self.claim_update(update_id, holder, lease)
        if not begun.claimed:
            return begun
        try:
            user, created = self.ensure_user(
                telegram_id,
                username=username,
                first_name=first_name,
                last_name=last_name,
                language_code=language_code,
                free_credits=free_credits,
                signup_key=signup_key,
            )
            conversation = self.get_conversation(state_key)
            return Begun(True, user, created, conversation, taken_over=begun.taken_over)
        except Exception:  # all or nothing, as Supabase's one function: delivered again later
            with self._write() as db:
                db.execute(
                    "DELETE FROM processed_updates WHERE update_id = ? AND claimed_by = ? "
                    "AND done_at IS NULL",
                    (update_id, holder),
                )
            raise

    def finish_update(
        self,
        update_id: int,
        holder: str,
        writes: Sequence[StateWrite] = (),
        answer: dict | None = None,
    ) -> bool:
        """Mark an update done, with the webhook answer it carries, and write the chat states it
        left, in one transaction; False (nothing written) when `holder` no longer holds it (its
        lease ran out and another process took it over: that one's writes count). Done by
        `holder` before (a try whose answer was lost): True, nothing written again."""
        at = ts(now())
        with self._write() as db:
            done = db.execute(
                "UPDATE processed_updates SET done_at = ?, answer = ? "
                "WHERE update_id = ? AND claimed_by = ? AND done_at IS NULL",
                (at, _json(answer), update_id, holder),
            ).rowcount
            if done:
                for write in writes:
                    write_state(db, write, at)
                return True
            # done by this holder already (a try whose answer was lost): done
            return bool(
                db.execute(
                    "SELECT 1 FROM processed_updates WHERE update_id = ? AND claimed_by = ? "
                    "AND done_at IS NOT NULL",
                    (update_id, holder),
                ).fetchone()
            )

    def updates_done(self, done: Sequence[tuple[int, dict | None]], holder: str) -> None:
        """Mark updates that wrote nothing done, with their answers, together (bot.leases)."""
        at = ts(now())
        with self._write() as db:
            db.executemany(
                "UPDATE processed_updates SET done_at = ?, answer = ? "
                "WHERE update_id = ? AND claimed_by = ? AND done_at IS NULL",
                [(at, _json(answer), update_id, holder) for update_id, answer in done],
            )

    def renew_updates(self, update_ids: Sequence[int], holder: str) -> None:
        """Renew `holder`'s leases on updates it is still handling."""
        at = ts(now())
        with self._write() as db:
            db.executemany(
                "UPDATE processed_updates SET claimed_at = ? "
                "WHERE update_id = ? AND claimed_by = ? AND done_at IS NULL",
                [(at, update_id, holder) for update_id in update_ids],
            )

    def forget_old_updates(self) -> None:
        """Processed update ids older than a week: Telegram cannot redeliver them any more."""
        with self._write() as db:
            cutoff = ts(now() - UPDATE_ID_TTL)
            db.execute("DELETE FROM processed_updates WHERE received_at < ?", (cutoff,))
