"""What models (Astria tunes) and generations (Astria prompts) share: the charge that creates
them, a lease to carry them to Astria, and the conditional move out of their working status
(training / processing), with a refund in the same transaction when they fail."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.store.sqlite.connection import Database, now, ts
from webapp.store.sqlite.users import change_credits


@dataclass(frozen=True)
class Kind:
    """How one kind of work is stored."""

    table: str  # telegram_models | telegram_prompts
    working: str  # the status while Astria has it: training | processing
    astria_id: str  # the column of Astria's id: model_id (tune) | prompt_id
    lease: str  # the column of the lease to send it to Astria
    charge: str  # the ledger reason of its charge; the refund is `<charge>_refund`
    record: object  # rows.model | rows.generation


class Work(Database):
    """Transitions every kind of work goes through."""

    def _claim(self, kind: Kind, object_id: int, lease_seconds: int) -> bool:
        """Take the lease to send the work to Astria (free again after `lease_seconds`)."""
        at = now()
        with self._write() as db:
            return bool(
                db.execute(
                    f"UPDATE {kind.table} SET {kind.lease} = ? WHERE id = ? "
                    f"AND status = '{kind.working}' AND {kind.astria_id} IS NULL "
                    f"AND ({kind.lease} IS NULL OR {kind.lease} <= ?)",
                    (ts(at), object_id, ts(at - timedelta(seconds=lease_seconds))),
                ).rowcount
            )

    def _postpone(self, kind: Kind, object_id: int, free_at: datetime, lease_seconds: int) -> None:
        """Hold the lease so that it runs out at `free_at`."""
        with self._write() as db:
            db.execute(
                f"UPDATE {kind.table} SET {kind.lease} = ? WHERE id = ? "
                f"AND status = '{kind.working}' AND {kind.astria_id} IS NULL",
                (ts(free_at - timedelta(seconds=lease_seconds)), object_id),
            )

    def _awaiting(self, kind: Kind) -> list:
        """Work Astria has not acknowledged yet, oldest first."""
        found = self._all(
            f"SELECT * FROM {kind.table} WHERE status = '{kind.working}' "
            f"AND {kind.astria_id} IS NULL ORDER BY id"
        )
        return [kind.record(r) for r in found]

    @staticmethod
    def _move(db: sqlite3.Connection, kind: Kind, object_id: int, status: str, keep=(), **columns):
        """working → `status`, setting `columns` (those in `keep` only when given: None keeps
        what is there); the updated record, or None when the work had already left its working
        status (a repeated callback, a race: then nothing happens)."""
        sets = ", ".join(f"{c} = COALESCE(?, {c})" if c in keep else f"{c} = ?" for c in columns)
        row = db.execute(
            f"UPDATE {kind.table} SET status = ?, {sets}, updated_at = ? "
            f"WHERE id = ? AND status = '{kind.working}' RETURNING *",
            (status, *columns.values(), ts(now()), object_id),
        ).fetchone()
        return kind.record(row) if row else None

    def _finish(self, kind: Kind, object_id: int, **columns):
        """working → ready/done, and Astria's id if given; the updated record, or None."""
        status = "ready" if kind.working == "training" else "done"
        with self._write() as db:
            keep = (kind.astria_id,)
            return self._move(db, kind, object_id, status, keep=keep, error=None, **columns)

    def _fail(self, kind: Kind, object_id: int, error: str, refund: int):
        """working → failed, the charge refunded once in the same transaction; (record, new
        balance or None), or None when it was not working any more."""
        with self._write() as db:
            record = self._move(db, kind, object_id, "failed", error=error)
            if record is None:
                return None
            balance = None
            if refund:
                reason, user = f"{kind.charge}_refund", record.telegram_user_id
                balance = change_credits(db, user, refund, reason, str(record.id))
        return record, balance

    def _in_progress(self, kind: Kind, column: str, before: datetime) -> list:
        """Working records whose `column` (a time) is before `before`, oldest first."""
        found = self._all(
            f"SELECT * FROM {kind.table} WHERE status = '{kind.working}' "
            f"AND {column} < ? ORDER BY id",
            (ts(before),),
        )
        return [kind.record(r) for r in found]
