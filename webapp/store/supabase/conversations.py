"""The chat flows' state: where a user is in a flow and what it has gathered."""

from __future__ import annotations

from datetime import datetime

from webapp.records import Conversation
from webapp.store.supabase.client import PostgREST, now


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

    def forget_conversations(self, prefix: str, before: datetime) -> int:
        """Forget the states under keys starting with `prefix` last written before `before`."""
        assert prefix.replace(":", "").isalnum(), "a plain prefix: * is PostgREST's wildcard"
        gone = self._run(
            self._table("conversation_states")
            .delete()
            .like("key", f"{prefix}*")
            .lt("updated_at", before.isoformat())
        )
        return len(gone or [])
