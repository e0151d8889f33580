"""A telebot state storage backed by the store, so a restart or a second worker loses nothing.

Handlers' state filters ask for the state many times per update; the row is read from the store
once per update (the webhook calls `begin_update`) and kept in a per-thread cache until then.
What a claimed update writes is kept too, and written when it ends, in the transaction that
marks it done (`finish_update`, webapp.services.leases): an update cut short writes no state,
so handled again it finds the state it found the first time.
"""

from __future__ import annotations

import copy
import threading

from telebot.states import resolve_context
from telebot.states.sync.context import StateContext
from telebot.storage import StateStorageBase
from telebot.storage.base_storage import StateDataContext

from webapp.records import Conversation, StateWrite
from webapp.store import Store


class StoreStateStorage(StateStorageBase):
    """Conversation state (step, photo file ids, chosen model) in `conversation_states`."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self._cache = threading.local()

    def prime(self, update_id: int, key: str, conversation: Conversation) -> None:
        """The state row of the update about to run, read with its claim (begin_update)."""
        self._cache.primed = (update_id, key, conversation)

    def begin_update(self, update_id: int | None = None, held: bool = False) -> None:
        """Forget what this thread read for the previous update; keep what was read for this
        one when it was claimed. `held`: keep its writes for `finish_update`."""
        primed = getattr(self._cache, "primed", None)
        self._cache.primed = None
        rows = {}
        if primed is not None and update_id is not None and primed[0] == update_id:
            rows[primed[1]] = primed[2]
        self._cache.rows = rows
        self._cache.held = {} if held else None

    def finish_update(self) -> list[StateWrite]:
        """The states the update left, to be written with its done mark; writes go straight to
        the store again after this."""
        held = getattr(self._cache, "held", None)
        self._cache.held = None
        return list(held.values()) if held else []

    def key_of(self, chat_id: int, user_id: int, bot_id: int | None) -> str:
        """The key a chat's flow state is kept under (as telebot's state context makes it)."""
        return self._key(chat_id, user_id, bot_id=bot_id)

    def _key(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ) -> str:
        return self._get_key(
            chat_id, user_id, "state", ":", business_connection_id, message_thread_id, bot_id
        )

    def _read(self, key: str) -> Conversation:
        rows = getattr(self._cache, "rows", None)
        if rows is None:
            rows = self._cache.rows = {}
        if key not in rows:
            rows[key] = self.store.get_conversation(key)
        return rows[key]

    def _put(self, write: StateWrite) -> None:
        """Keep a write for the claimed update's done mark, or (outside one) make it now;
        `state` and `data` None clear the state."""
        held = getattr(self._cache, "held", None)
        if held is not None:
            held[write.key] = write
        elif write.state is None and write.data is None:
            self.store.clear_conversation(write.key)
        else:
            self.store.set_conversation(write.key, write.state, write.data)

    def _write(self, key: str, state: str | None, data: dict) -> None:
        self._put(StateWrite(key, state, copy.deepcopy(data)))
        self._cache.__dict__.setdefault("rows", {})[key] = Conversation(state, copy.deepcopy(data))

    def set_state(
        self,
        chat_id,
        user_id,
        state,
        business_connection_id=None,
        message_thread_id=None,
        bot_id=None,
    ) -> bool:
        """Enter a state, keeping the data gathered so far."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        state = getattr(state, "name", state)
        self._write(key, state, self._read(key).data)
        return True

    def get_state(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ) -> str | None:
        """The current state name, or None."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        return self._read(key).state

    def delete_state(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ) -> bool:
        """Leave the flow: state and data are gone."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        existed = self._read(key).state is not None
        self._put(StateWrite(key, None, None))
        self._cache.__dict__.setdefault("rows", {})[key] = Conversation(None, {})
        return existed

    def set_data(
        self,
        chat_id,
        user_id,
        key,
        value,
        business_connection_id=None,
        message_thread_id=None,
        bot_id=None,
    ) -> bool:
        """Store one value of the flow's data."""
        row_key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        row = self._read(row_key)
        self._write(row_key, row.state, {**row.data, key: value})
        return True

    def get_data(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ) -> dict:
        """A copy of the flow's data."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        return copy.deepcopy(self._read(key).data)

    def reset_data(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ) -> bool:
        """Empty the flow's data, keeping the state."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        self._write(key, self._read(key).state, {})
        return True

    def get_interactive_data(
        self, chat_id, user_id, business_connection_id=None, message_thread_id=None, bot_id=None
    ):
        """`with storage.get_interactive_data(...) as data:` edits and saves the data."""
        return StateDataContext(
            self,
            chat_id=chat_id,
            user_id=user_id,
            business_connection_id=business_connection_id,
            message_thread_id=message_thread_id,
            bot_id=bot_id,
        )

    def save(
        self,
        chat_id,
        user_id,
        data,
        business_connection_id=None,
        message_thread_id=None,
        bot_id=None,
    ) -> bool:
        """Write the data edited through `get_interactive_data`."""
        key = self._key(chat_id, user_id, business_connection_id, message_thread_id, bot_id)
        self._write(key, self._read(key).state, data)
        return True


def flow_data(state: StateContext) -> dict:
    """Read the flow's data without writing it back (StateContext.data() always saves)."""
    chat, user, business, bot_id, thread = resolve_context(state.message, state.bot.bot_id)
    return state.bot.current_states.get_data(
        chat_id=chat,
        user_id=user,
        business_connection_id=business,
        bot_id=bot_id,
        message_thread_id=thread,
    )
