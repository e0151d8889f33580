"""Before any handler: who is writing (registered on first contact), in which language, and
whether the update is one a flow can answer at all."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from telebot import TeleBot
from telebot.handler_backends import BaseMiddleware, CancelUpdate
from telebot.types import CallbackQuery, Message

from bot.cashier import is_payment
from bot.failures import current_update
from bot.flood import FloodControl
from bot.replies import chat_id
from webapp.records import User, bounded_id
from webapp.services import Services
from webapp.texts import Texts

log = logging.getLogger("bot")

# (update id, user, just created): the sender as the webhook's claim found them, for that
# update only (bot.updates.Updates.claim); saves the middleware its own trip to the store.
known_sender: ContextVar[tuple[int, User, bool] | None] = ContextVar("known_sender", default=None)


class UserMiddleware(BaseMiddleware):
    """Registers the sender on every message or button press and passes `user` and `t` on."""

    def __init__(self, bot: TeleBot, services: Services, flood: FloodControl):
        super().__init__()
        self.bot = bot
        self.flood = flood
        self.update_sensitive = False
        self.update_types = ["message", "callback_query"]
        self.services = services

    def pre_process(self, message: Message | CallbackQuery, data: dict):
        """Add `user` (a User record) and `t` (the user's texts) to the handler's arguments.

        Updates no flow can answer are dropped here: anything outside a private chat (the bot
        talks about a person's photos and credits, never in a group), a message with no sender,
        a button press without data or without the message it belongs to. A user sending faster
        than the flood limit is ignored (one polite warning a minute), before any flow runs (the
        update's claim has already registered them and read their state, in one round trip)."""
        sender = message.from_user
        money = is_payment(message)  # Telegram took or gave back Stars: always handled
        if not money and not _answerable(message):
            log.info("ignored: an update no flow answers (%s)", type(message).__name__)
            if isinstance(message, CallbackQuery):
                self.bot.answer_callback_query(message.id)
            return CancelUpdate()
        album = getattr(message, "media_group_id", None)
        allowed, warn = (True, False) if money else self.flood.allow(sender.id, album)
        if not allowed:
            if warn:
                self.bot.send_message(chat_id(message), Texts(sender.language_code)("flood"))
            return CancelUpdate()
        language = sender.language_code if isinstance(sender.language_code, str) else None
        known = known_sender.get()
        update = current_update.get()
        if known is not None and update is not None and known[0] == update.update_id:
            data["user"] = self.services.accounts.registered(*known[1:])
        else:
            data["user"] = self.services.accounts.register(
                sender.id,
                username=sender.username,
                first_name=sender.first_name,
                last_name=sender.last_name,
                language_code=language,
            )
        data["t"] = Texts(language)
        log.info("action user=%s %s", sender.id, describe(message))

    def post_process(self, message, data: dict, exception) -> None:
        """Nothing: a handler's failure is dealt with by bot.failures.Failures."""


def _answerable(update: Message | CallbackQuery) -> bool:
    """A message from a person in a private chat, or a button press with data on one of our
    messages in a private chat."""
    if update.from_user is None or bounded_id(update.from_user.id) is None:
        return False  # Telegram's user ids are positive integers; a float or a bool is not one
    if isinstance(update, CallbackQuery):
        if not update.data or not isinstance(update.data, str):
            return False
        update = update.message
    chat = getattr(update, "chat", None)
    return chat is not None and chat.type == "private" and bounded_id(chat.id) is not None


def describe(update: Message | CallbackQuery) -> str:
    """What the user did, for the log: a command, a button, or the kind of message (no content)."""
    if isinstance(update, CallbackQuery):
        return f"button {update.data}"
    if update.content_type == "text" and update.text.startswith("/"):
        return update.text.split()[0][:32]
    return update.content_type
