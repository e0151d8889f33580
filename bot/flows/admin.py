"""/stats and /grant for the chats in ADMIN_CHAT_IDS (others get the usual "not sure" reply)."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import Message

from bot.replies import send
from webapp.records import NotEnoughCredits, NotFound, User, bounded_id
from webapp.services import Services
from webapp.texts import Texts


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""
    admins = set(services.settings.admin_chat_ids)

    def is_admin(message: Message) -> bool:
        return message.from_user.id in admins

    @bot.message_handler(commands=["stats"], func=is_admin)
    def stats(message: Message, t: Texts) -> None:
        send(bot, message, t("stats", **services.accounts.stats()))

    @bot.message_handler(commands=["grant"], func=is_admin)
    def grant(message: Message, user: User, t: Texts) -> None:
        parts = message.text.split()
        telegram_id = bounded_id(parts[1]) if len(parts) == 3 else None
        amount = parts[2] if len(parts) == 3 else ""
        digits = amount.removeprefix("-")
        if telegram_id is None or not (digits.isascii() and digits.isdigit()) or len(digits) > 6:
            send(bot, message, t("grant_usage"))
            return
        amount = int(amount)
        try:
            # the message id makes a redelivered /grant a repeat, not a second grant
            balance = services.accounts.grant(
                telegram_id, amount, user.telegram_id, str(message.message_id)
            )
        except NotFound:
            send(bot, message, t("grant_unknown", telegram_id=telegram_id))
            return
        except NotEnoughCredits:  # a negative grant larger than the balance
            send(bot, message, t("grant_usage"))
            return
        if balance is None:
            send(bot, message, t("grant_repeat"))
            return
        send(
            bot,
            message,
            t(
                "grant_done",
                credits=t.credits(amount),
                telegram_id=telegram_id,
                balance=t.credits(balance),
            ),
        )
