"""The chat flows' state (where a user is in a flow and what it has gathered), and marks:
small facts about a user's work kept for a while."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from webapp.records import Conversation, StateWrite
from webapp.store.sqlite.connection import Database, now, ts


def write_state(db: sqlite3.Connection, write: StateWrite, at: str) -> None:
    """Write (or clear) one chat flow state in the caller's transaction."""
    if write.state is None and write.data is None:
        db.execute("DELETE FROM conversation_states WHERE key = ?", (write.key,))
        return
    db.execute(
        "INSERT INTO conversation_states (key, state, data, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at",
        (write.key, write.state, json.dumps(write.data or {}), at),
    )


class Conversations(Database):
    """The store's conversation-state methods."""

    def get_conversation(self, key: str) -> Conversation:
        """The chat flow state under a key."""
        row = self._one("SELECT state, data FROM conversation_states WHERE key = ?", (key,))
        if row is None:
            return Conversation(None, {})
        return Conversation(row["state"], json.loads(row["data"]))

    def set_conversation(self, key: str, state: str | None, data: dict) -> None:
        """Write the chat flow state under a key."""
        with self._write() as db:
            write_state(db, StateWrite(key, state, data), ts(now()))

    def clear_conversation(self, key: str) -> None:
        """Forget the chat flow state under a key."""
        with self._write() as db:
            db.execute("DELETE FROM conversation_states WHERE key = ?", (key,))


class Marks(Database):
    """The store's marks (webapp.records.MarkKind)."""

    def mark(
        self, kind: str, key: str, telegram_id: int, data: dict | None = None, replace=False
    ) -> bool:
        """Keep a mark; True when written (new, or `replace`; its user still exists)."""
        conflict = "DO UPDATE SET data = excluded.data, created_at = excluded.created_at"
        with self._write() as db:
            return bool(
                db.execute(
                    "INSERT INTO marks (kind, key, telegram_user_id, data, created_at) "
                    "SELECT ?, ?, telegram_id, ?, ? FROM telegram_users WHERE telegram_id = ? "
                    f"ON CONFLICT (kind, key) {conflict if replace else 'DO NOTHING'}",
                    (kind, key, json.dumps(data or {}), ts(now()), telegram_id),
                ).rowcount
            )

    def get_mark(self, kind: str, key: str) -> dict | None:
        """A mark's data; None when there is none."""
        row = self._one("SELECT data FROM marks WHERE kind = ? AND key = ?", (kind, key))
        return None if row is None else json.loads(row["data"])

    def drop_mark(self, kind: str, key: str) -> None:
        """Forget one mark."""
        with self._write() as db:
            db.execute("DELETE FROM marks WHERE kind = ? AND key = ?", (kind, key))

    def forget_marks(self, kind: str, before: datetime) -> int:
        """Forget the marks of a kind made before `before`; how many went."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM marks WHERE kind = ? AND created_at < ?", (kind, ts(before))
            ).rowcount
