"""Per-update context: who is writing (registered on first contact) and in which language."""

from __future__ import annotations

from datetime import UTC, datetime

from telebot import TeleBot
from telebot.handler_backends import BaseMiddleware
from telebot.states import resolve_context
from telebot.states.sync.context import StateContext
from telebot.types import CallbackQuery, Message

from bot.texts import Texts
from webapp.records import Model, ModelStatus
from webapp.services import Services


class UserMiddleware(BaseMiddleware):
    """Registers the sender on every message or button press and passes `user` and `t` on."""

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.update_sensitive = False
        self.update_types = ["message", "callback_query"]
        self.services = services

    def pre_process(self, message: Message | CallbackQuery, data: dict) -> None:
        """Add `user` (a User record) and `t` (the user's texts) to the handler's arguments."""
        sender = message.from_user
        data["user"] = self.services.accounts.register(
            sender.id,
            username=sender.username,
            first_name=sender.first_name,
            last_name=sender.last_name,
            language_code=sender.language_code,
        )
        data["t"] = Texts(sender.language_code)

    def post_process(self, message, data: dict, exception) -> None:
        """Nothing to clean up."""


def chat_id(update: Message | CallbackQuery) -> int:
    """The chat to answer in, for a message or a button press."""
    return update.chat.id if isinstance(update, Message) else update.message.chat.id


def eta_text(t: Texts, model: Model) -> str:
    """ "about 12 min left" / "almost done" / "starting"."""
    if model.eta is None:
        return t("eta_unknown")
    minutes = int((model.eta - datetime.now(UTC)).total_seconds() // 60) + 1
    return t("eta_minutes", minutes=minutes) if minutes > 1 else t("eta_soon")


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
    if error in ("photos_unavailable", "astria_unavailable"):
        return t(f"reason_{error}")
    if error.startswith("astria: "):
        return t("reason_astria", detail=error.removeprefix("astria: ")[:200])
    return t("reason_other", detail=error[:200] or "?")


def send(bot: TeleBot, update: Message | CallbackQuery, text: str, **kwargs) -> Message:
    """Answer in the update's chat."""
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
