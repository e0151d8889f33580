"""The chat flows' state (where a user is in a flow and what it has gathered), and marks:
small facts about a user's work kept for a while."""

from __future__ import annotations

from datetime import datetime

from webapp.records import Conversation, StoreError
from webapp.store.supabase.client import PostgREST, now

FOREIGN_KEY = "23503"  # Postgres: a row named by a foreign key is not there


class Conversations(PostgREST):
    """The store's conversation-state methods."""

    def get_conversation(self, key: str) -> Conversation:
        """The chat flow state under a key."""
        found = self._run(self._table("conversation_states").select("state,data").eq("key", key))
        if not found:
            return Conversation(None, {})
        return Conversation(found[0]["state"], found[0]["data"] or {})

    def set_conversation(self, key: str, state: str | None, data: dict) -> None:
        """Write the chat flow state under a key."""
        self._run(
            self._table("conversation_states").upsert(
                {"key": key, "state": state, "data": data, "updated_at": now()}, on_conflict="key"
            )
        )

    def clear_conversation(self, key: str) -> None:
        """Forget the chat flow state under a key."""
        self._run(self._table("conversation_states").delete().eq("key", key))


class Marks(PostgREST):
    """The store's marks (webapp.records.MarkKind)."""

    def mark(
        self, kind: str, key: str, telegram_id: int, data: dict | None = None, replace=False
    ) -> bool:
        """Keep a mark; True when written (new, or `replace`; its user still exists)."""
        row = {"kind": kind, "key": key, "telegram_user_id": telegram_id, "data": data or {},
               "created_at": now()}  # fmt: skip
        query = self._table("marks").upsert(
            row, on_conflict="kind,key", ignore_duplicates=not replace
        )
        try:
            return bool(self._run(query))
        except StoreError as exc:
            if exc.code == FOREIGN_KEY:  # the user was deleted meanwhile
                return False
            raise

    def get_mark(self, kind: str, key: str) -> dict | None:
        """A mark's data; None when there is none."""
        found = self._run(self._table("marks").select("data").eq("kind", kind).eq("key", key))
        return (found[0]["data"] or {}) if found else None

    def drop_mark(self, kind: str, key: str) -> None:
        """Forget one mark."""
        self._run(self._table("marks").delete().eq("kind", kind).eq("key", key))

    def forget_marks(self, kind: str, before: datetime) -> int:
        """Forget the marks of a kind made before `before`; how many went."""
        gone = self._run(
            self._table("marks").delete().eq("kind", kind).lt("created_at", before.isoformat())
        )
        return len(gone or [])
