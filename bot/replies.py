"""Answering in the chat an update came from."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery, Message


def chat_id(update: Message | CallbackQuery) -> int:
    """The chat to answer in, for a message or a button press."""
    return update.chat.id if isinstance(update, Message) else update.message.chat.id


def send(bot: TeleBot, update: Message | CallbackQuery, text: str, **kwargs) -> Message:
    """Answer in the update's chat. The answer may be queued (Telegram's pace, a 429): then the
    Message returned is a placeholder with message_id 0, so never keep its id to edit later."""
    return bot.send_message(chat_id(update), text, **kwargs)
