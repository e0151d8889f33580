"""The chat flows' state: where a user is in a flow and what it has gathered."""

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

    def forget_conversations(self, prefix: str, before: datetime) -> int:
        """Forget the states under keys starting with `prefix` last written before `before`."""
        with self._write() as db:
            return db.execute(
                "DELETE FROM conversation_states WHERE substr(key, 1, ?) = ? AND updated_at < ?",
                (len(prefix), prefix, ts(before)),
            ).rowcount
