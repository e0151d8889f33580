"""/delete: after a confirmation, the user's tunes on Astria and all their rows are deleted.
Also: a user blocking or unblocking the bot (Telegram's my_chat_member update)."""

from __future__ import annotations

from telebot import TeleBot
from telebot.states.sync.context import StateContext
from telebot.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.replies import replace, send
from webapp.records import User
from webapp.services import Services
from webapp.services.accounts import DeleteFailed
from webapp.texts import Texts


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""

    @bot.message_handler(commands=["delete"])
    def delete(message: Message, t: Texts, state: StateContext) -> None:
        state.delete()
        markup = InlineKeyboardMarkup(row_width=1).add(
            InlineKeyboardButton(t("btn_delete_yes"), callback_data="del:yes"),
            InlineKeyboardButton(t("btn_delete_no"), callback_data="del:no"),
        )
        send(bot, message, t("delete_confirm"), reply_markup=markup)

    @bot.callback_query_handler(func=lambda call: call.data in ("del:yes", "del:no"))
    def confirmed(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        if call.data == "del:no":
            text = t("delete_kept")
        else:
            try:
                services.payments.stop_plan(user.telegram_id)  # Telegram would charge again
                services.accounts.delete_everything(user.telegram_id)
                text = t("delete_done")
            except DeleteFailed:
                text = t("delete_failed")
        replace(bot, call, text)

    @bot.my_chat_member_handler(func=lambda update: update.chat.type == "private")
    def blocked_or_back(update: ChatMemberUpdated) -> None:
        """Blocked: nothing is sent to them until they are back (status member)."""
        reachable = update.new_chat_member.status not in ("kicked", "left")
        services.accounts.set_reachable(update.from_user.id, reachable)
