"""/stats, /grant, /refund and /reply (to a /paysupport question) for the chats in
ADMIN_CHAT_IDS (others get the usual "not sure" reply)."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.cashier import tell_refunded
from bot.replies import replace, send
from webapp.records import NotEnoughCredits, NotFound, User, bounded_id
from webapp.services import Services
from webapp.services.payments import Refund, RefundOutcome
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

    def refund_said(t: Texts, done: Refund) -> tuple[str, InlineKeyboardMarkup | None]:
        """What the admin is told about a refund (and the button to confirm one)."""
        payment = done.payment
        if done.outcome == RefundOutcome.UNKNOWN:
            return t("refund_unknown"), None
        if done.outcome == RefundOutcome.ALREADY:
            return t("refund_already"), None
        if done.outcome == RefundOutcome.REFUSED:
            return t("refund_refused", reason=done.reason), None
        if done.outcome == RefundOutcome.SPENT:
            markup = keyboards.one_button(t("btn_refund_anyway"), f"rf:{payment.id}")
            text = t(
                "refund_spent",
                credits=t.credits(payment.credits),
                have=t.credits(done.have),
                stars=t.stars(payment.stars),
            )
            return text, markup
        text = t(
            "refund_done",
            stars=t.stars(payment.stars),
            telegram_id=payment.telegram_id,
            taken=t.credits(payment.taken_back),
        )
        return text, None

    @bot.message_handler(commands=["refund"], func=is_admin)
    def refund(message: Message, t: Texts) -> None:
        parts = message.text.split()
        if len(parts) != 2 or len(parts[1]) > 256:
            send(bot, message, t("refund_usage"))
            return
        done = services.payments.refund(parts[1])
        text, markup = refund_said(t, done)
        send(bot, message, text, reply_markup=markup)
        if done.outcome == RefundOutcome.DONE:
            tell_refunded(bot, done)  # after the admin heard: the buyer may be unreachable

    @bot.callback_query_handler(
        func=lambda call: call.data.startswith("rf:") and call.from_user.id in admins
    )
    def refund_anyway(call: CallbackQuery, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        done = services.payments.refund_by_id(bounded_id(call.data[3:]), force=True)
        text, _ = refund_said(t, done)
        replace(bot, call, text)
        if done.outcome == RefundOutcome.DONE:
            tell_refunded(bot, done)

    @bot.message_handler(commands=["reply"], func=is_admin)
    def reply(message: Message, t: Texts) -> None:
        """An admin answers a /paysupport question: the text goes to the user as Support."""
        parts = message.text.split(maxsplit=2)
        telegram_id = bounded_id(parts[1]) if len(parts) == 3 else None
        if telegram_id is None:
            send(bot, message, t("reply_usage"))
            return
        said = Texts(services.accounts.language_of(telegram_id))("support_reply", text=parts[2])
        try:
            bot.send_message(telegram_id, said)
        except Exception:  # blocked, or never wrote to the bot
            send(bot, message, t("reply_failed", telegram_id=telegram_id))
            return
        send(bot, message, t("reply_done", telegram_id=telegram_id))
