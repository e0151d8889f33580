"""The webhook's updates: claimed under a lease, renewed, then done with their answer and the
chat states they wrote (webapp.services.leases)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import timedelta

from webapp.records import Begun, StateWrite, StoreError
from webapp.store.sqlite.connection import Database, now, ts
from webapp.store.sqlite.conversations import write_state

UPDATE_ID_TTL = timedelta(days=7)  # Telegram keeps undelivered updates for 24 h

CLAIMED = Begun(True)


def _json(answer: dict | None) -> str | None:
    return json.dumps(answer, ensure_ascii=False) if answer is not None else None


class Updates(Database):
    """processed_updates: one row per update, its claim and its done mark. (begin_update also
    needs `ensure_user` and `get_conversation`, from the store it is mixed into.)"""

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
