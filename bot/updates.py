"""One update from the webhook: claimed for this process (with its sender and chat state read in
the same store round trip), run through the flows, then marked done with its state writes and
the answer it carried, before its replies leave (webapp.services.leases).

What one update's handling hands down without arguments (context variables, set here or by the
claim and reset when the update ends), in one list:
- `bot.middleware.known_sender`: the sender and their state read with the claim (no second trip);
- `bot.failures.current_update`, `update_failed`: which update failed, for Failures' reply;
- `bot.outbox.answer.webhook_answer`: the update's held replies and what rides in its answer;
- `bot.leases.keyed`: the update created something keyed by its id (its done mark waits for it);
- `webapp.jobs.in_background` (set by jobs, not here): a send may wait for Telegram's answer.
Handlers get `user`, `t` and `state` as arguments from the middleware (bot.middleware)."""

from __future__ import annotations

import logging
from enum import Enum
from typing import NamedTuple

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException
from telebot.types import InaccessibleMessage, Update

from bot.failures import current_update, update_failed
from bot.leases import keyed
from bot.middleware import known_sender
from bot.outbox import Outbox, WebhookAnswer, webhook_answer
from bot.outbox.calls import json_body
from bot.state_storage import StoreStateStorage
from webapp.records import Begun, bounded_id
from webapp.services import Services
from webapp.services.leases import GAVE_UP, Leases
from webapp.store import Store

log = logging.getLogger("telegram")


class Claimed(NamedTuple):
    """What the claim of an update says: handle it here (`claimed`), or not: it was done (with
    the webhook `answer` it carried, for this redelivery), or another process is still at it
    (`busy`: Telegram should deliver it again later)."""

    claimed: bool
    answer: dict | None = None
    busy: bool = False


class Updates:
    """The chat's webhook side: `claim(payload)` claims an update for this process, then
    `handle(update)` runs it through the flows and marks it done."""

    def __init__(
        self,
        bot: TeleBot,
        outbox: Outbox,
        storage: StoreStateStorage,
        store: Store,
        services: Services,
        leases: Leases,
        replies_in_answer: bool = True,
    ) -> None:
        self.bot, self.outbox, self.storage, self.store = bot, outbox, storage, store
        self.accounts, self.settings = services.accounts, services.settings
        self.leases = leases
        self.replies_in_answer = replies_in_answer

    def claim(self, payload: dict) -> Claimed:
        """Claim one update and, for a person writing in their private chat, make sure of them
        and read their flow's state with the claim: one store round trip for a plain command
        (Supabase: begin_update()). What it read is handed to the middleware and the state
        storage for this update only. A redelivery of an update a process holds waits for it
        (webapp.services.leases)."""
        leases, store, storage = self.leases, self.store, self.storage
        holder = leases.holder
        update_id = payload["update_id"]
        found = _private_sender(payload)

        def state_key() -> str:
            return storage.key_of(found[0]["id"], found[0]["id"], self.bot.bot_id)

        def attempt(lease: float = leases.lease) -> Begun:
            if found is None:
                return store.claim_update(update_id, holder, lease)
            sender = found[0]
            return store.begin_update(
                update_id,
                sender["id"],
                username=_text(sender.get("username")),
                first_name=_text(sender.get("first_name")),
                last_name=_text(sender.get("last_name")),
                language_code=_text(sender.get("language_code")),
                free_credits=self.settings.free_credits,
                signup_key=self.accounts.signup_key(sender["id"]),
                state_key=state_key(),
                holder=holder,
                lease=lease,
            )

        begun = attempt()
        if begun.busy and begun.held_by == holder and leases.local(update_id) is GAVE_UP:
            begun = attempt(lease=0)  # this process's own claim, on an update it gave up
        if begun.busy:
            log.info("update=%s is being handled elsewhere; waiting", update_id)
            begun = leases.wait_busy(update_id, attempt, begun)
        if not begun.claimed:
            return Claimed(False, begun.answer, begun.busy)
        if begun.taken_over:
            log.warning("update=%s taken over: the process handling it stopped", update_id)
        leases.begin(update_id)
        if found is not None:
            known_sender.set((update_id, begun.user, begun.created))
            if not found[1]:  # a topic's state has another key: read as usual
                storage.prime(update_id, state_key(), begun.conversation)
        return Claimed(True)

    def handle(self, update: Update, claimed: bool = True) -> Handled:
        """Run one update: whether it went well (else the bot's Failures, bot/failures.py, has
        dealt with it: never silently), and the one Bot API call the webhook's answer may carry
        (the update's only message, whose result nobody needs; Telegram makes that call, we
        save a request).

        A `claimed` update (all but payments, which are once per charge) keeps its chat state
        and its replies until it ends: then the state is written with its done mark, and the
        replies leave (webapp.services.leases). One cut short (the process dies) leaves neither."""
        update_id = update.update_id
        self.storage.begin_update(update_id, held=claimed)
        _mend_inaccessible(update)
        answer = WebhookAnswer(
            carry=claimed and self.replies_in_answer,
            chat=_chat_of(update) if claimed else None,
        )
        tokens = (
            current_update.set(update),
            update_failed.set(False),
            webhook_answer.set(answer),
            keyed.set(False),
        )
        try:
            try:
                self.bot.process_new_updates([update])
            except Exception as exc:  # raised outside telebot's own handling
                self.bot.exception_handler.failed(exc, update)
            ok = not update_failed.get()
            if claimed:
                finished, carried = self._finish(update, answer, ok)
                if finished is Finish.REFUSED:
                    return Handled(False, None, finished=False)
                return Handled(ok, carried)
        except BaseException:  # cut short (the process is going down): its claim runs out
            self.storage.finish_update()
            if claimed:
                self.leases.end(update_id, gave_up=True)
            raise
        finally:
            current_update.reset(tokens[0])
            update_failed.reset(tokens[1])
            webhook_answer.reset(tokens[2])
            keyed.reset(tokens[3])
        if not ok:
            self.outbox.flush(answer)  # a failed update's answer may not be delivered: send it
        return Handled(ok, answer.json())

    def _finish(
        self, update: Update, answer: WebhookAnswer, ok: bool
    ) -> tuple[Finish, dict | None]:
        """Mark the update done with what it carries, then let its replies leave.

        Now, in one transaction with its state writes, when it wrote state, created something
        (`request_key`) or sends replies itself: a crash after that mark cannot make them
        twice. Else (at most one reply, riding in the webhook's answer) shortly, with others,
        off the request path (webapp.services.leases). And the answer the webhook gives."""
        update_id, outbox, leases = update.update_id, self.outbox, self.leases
        writes = self.storage.finish_update()
        carried = outbox.carry(answer) if ok else None  # what a redelivery answers too
        if not (writes or keyed.get() or answer.held):
            leases.end(update_id, carried, done_later=True)
            return Finish.DONE, carried
        ours = leases.finish(update_id, writes, carried)
        if not ours:
            outbox.release(answer, send=False)
            if ours is False:
                log.warning("update=%s was taken over by another process; its writes and "
                            "replies dropped", update_id)  # fmt: skip
            return (Finish.TAKEN if ours is False else Finish.REFUSED), None
        for call, response in outbox.release(answer):  # refused; the handler got placeholders
            refused = ApiTelegramException(call.method, response, json_body(response))
            if call.optional:  # an extra the update does without (bot.outbox.optional)
                log.info("update=%s: %s refused (%s)", update_id, call.method,
                         refused.description)  # fmt: skip
                continue
            self.bot.exception_handler.failed(refused, update)
        return Finish.DONE, carried


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _private_sender(payload: dict) -> tuple[dict, bool] | None:
    """The sender of a message or button press in their own private chat (as a dict), and
    whether it is in a topic; None for anything else (groups, channels, odd updates)."""
    message = payload.get("message")
    sender = message.get("from") if isinstance(message, dict) else None
    if isinstance(payload.get("callback_query"), dict):
        query = payload["callback_query"]
        sender, message = query.get("from"), query.get("message")
    if not isinstance(sender, dict) or not isinstance(message, dict):
        return None
    chat = message.get("chat")
    raw_id = sender.get("id")
    user_id = bounded_id(raw_id) if type(raw_id) is int else None
    if not isinstance(chat, dict) or chat.get("type") != "private" or user_id is None:
        return None
    if chat.get("id") != user_id or sender.get("is_bot") is True:
        return None
    return sender, "message_thread_id" in message


class Handled(NamedTuple):
    """How one update went, and the call its webhook answer carries (None: nothing);
    `finished` False when it could not be marked done (the store refused): Telegram should
    deliver it again."""

    ok: bool
    answer: dict | None
    finished: bool = True


class Finish(Enum):
    """How an update's done mark went."""

    DONE = "done"  # marked (now, or shortly with others): its messages leave
    TAKEN = "taken"  # another process took it over meanwhile: it answers, not this one
    REFUSED = "refused"  # the store refused: nothing written, the claim runs out


def _mend_inaccessible(update: Update) -> None:
    """A button under a message the bot can no longer read (Telegram sends its press with the
    message's chat and id only, and date 0: an old album's 🔁 More, days later) works as any
    other: telebot's chat state asks that message for its business connection and topic, which
    pyTelegramBotAPI 4.37's InaccessibleMessage raises on, so they are given as none."""
    query = update.callback_query
    if query is not None and isinstance(query.message, InaccessibleMessage):
        query.message.business_connection_id = None
        query.message.message_thread_id = None
        query.message.is_topic_message = None


def _chat_of(update: Update) -> int | None:
    """The chat an update happened in (its replies go there)."""
    if update.message is not None:
        return update.message.chat.id
    query = update.callback_query
    if query is not None and query.message is not None:
        return query.message.chat.id
    return None
