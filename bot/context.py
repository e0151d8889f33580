"""Per-update context: who is writing (registered on first contact) and in which language."""

from __future__ import annotations

import logging

from telebot import TeleBot
from telebot.handler_backends import BaseMiddleware, CancelUpdate
from telebot.states import resolve_context
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot.texts import Texts
from webapp.limits import FloodControl
from webapp.records import Model, ModelStatus, bounded_id
from webapp.services import Services

log = logging.getLogger("bot")


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
        than the flood limit is ignored (one polite warning a minute), before anything touches
        the database."""
        sender = message.from_user
        if not _answerable(message):
            log.info("ignored: an update no flow answers (%s)", type(message).__name__)
            if isinstance(message, CallbackQuery):
                self.bot.answer_callback_query(message.id)
            return CancelUpdate()
        album = getattr(message, "media_group_id", None)
        allowed, warn = self.flood.allow(sender.id, album)
        if not allowed:
            if warn:
                self.bot.send_message(chat_id(message), Texts(sender.language_code)("flood"))
            return CancelUpdate()
        data["user"] = self.services.accounts.register(
            sender.id,
            username=sender.username,
            first_name=sender.first_name,
            last_name=sender.last_name,
            language_code=sender.language_code,
        )
        data["t"] = Texts(sender.language_code)
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


def chat_id(update: Message | CallbackQuery) -> int:
    """The chat to answer in, for a message or a button press."""
    return update.chat.id if isinstance(update, Message) else update.message.chat.id


def eta_text(t: Texts, model: Model) -> str:
    """How long training has left: about 12 min / almost done / starting."""
    minutes = model.minutes_left()
    if minutes is None:
        return t("eta_unknown")
    return t("eta_minutes", minutes=minutes) if minutes else t("eta_soon")


def model_line(t: Texts, model: Model) -> str:
    """One line of /models."""
    class_label = t(f"class_{model.class_name}").lower()
    if model.status == ModelStatus.READY:
        return t("model_line_ready", name=model.name, class_label=class_label)
    if model.status == ModelStatus.TRAINING:
        return t(
            "model_line_training", name=model.name, class_label=class_label, eta=eta_text(t, model)
        )
    return t("model_line_failed", name=model.name, class_label=class_label)


def failure_reason(t: Texts, error: str | None) -> str:
    """A stored error code → words for the user."""
    error = error or ""
    if error in ("photos_unavailable", "photos_lost", "astria_unavailable", "duplicate_photos"):
        return t(f"reason_{error}")
    if error.startswith("astria: "):
        return t("reason_astria", detail=error.removeprefix("astria: ")[:200])
    return t("reason_other", detail=error[:200] or "?")


def no_credits(t: Texts, key: str, need: int, have: int) -> str:
    """The not-enough-credits message of training or generation (`key`), with plurals."""
    return t(key, need=t.credits(need), have=t.credits(have))


def send(bot: TeleBot, update: Message | CallbackQuery, text: str, **kwargs) -> Message:
    """Answer in the update's chat. The answer may be queued (Telegram's pace, a 429): then the
    Message returned is a placeholder with message_id 0, so never keep its id to edit later."""
    return bot.send_message(chat_id(update), text, **kwargs)


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
