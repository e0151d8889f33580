"""Answering in the chat an update came from."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery, InaccessibleMessage, Message

from bot import keyboards
from bot.render import no_credits
from webapp.records import Pack
from webapp.texts import Texts


def chat_id(update: Message | CallbackQuery) -> int:
    """The chat to answer in, for a message or a button press."""
    return update.chat.id if isinstance(update, Message) else update.message.chat.id


def send(bot: TeleBot, update: Message | CallbackQuery, text: str, **kwargs) -> Message:
    """Answer in the update's chat. The answer may be queued (Telegram's pace, a 429): then the
    Message returned is a placeholder with message_id 0, so never keep its id to edit later."""
    return bot.send_message(chat_id(update), text, **kwargs)


def gone(call: CallbackQuery) -> bool:
    """The button is under a message the bot can no longer read (deleted, or too old: Telegram
    sends its press with date 0), which cannot be edited."""
    return isinstance(call.message, InaccessibleMessage)


def replace(bot: TeleBot, call: CallbackQuery, text: str, **kwargs) -> None:
    """Put `text` in place of the message the button is under, or, when that message is gone,
    send it as a new one (an edit would be refused and the user would hear nothing)."""
    if gone(call):
        send(bot, call, text, **kwargs)
    else:
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, **kwargs)


def short_of_credits(
    bot: TeleBot,
    update: Message | CallbackQuery,
    t: Texts,
    key: str,
    need: int,
    have: int,
    packs: tuple[Pack, ...],
) -> None:
    """Say what is missing (`key`: train_no_credits or generate_no_credits) and offer the
    packs for sale under it, as every "not enough credits" message does."""
    send(bot, update, no_credits(t, key, need, have), reply_markup=keyboards.packs(t, packs))
