"""Buying credits with Telegram Stars: /buy and its pack buttons, the invoice, Telegram's
pre-checkout question, the payment (granted once per charge id), a refund made elsewhere,
and /paysupport and /terms, which Telegram's terms require of every bot that sells."""

from __future__ import annotations

import logging

from telebot import TeleBot
from telebot.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PreCheckoutQuery,
)

from bot import keyboards
from bot.cashier import invoice, pack_lines, tell_refunded, worth
from bot.leases import request_key
from bot.replies import chat_id, replace, send
from webapp.records import InvalidInput, PaymentUnavailable, SellingOff, User, bounded_id
from webapp.services import Services
from webapp.services.payments import payload_of
from webapp.services.ports import TelegramRefused
from webapp.texts import Texts

log = logging.getLogger("payments")

SUPPORT_MAX = 1000  # characters of a /paysupport message passed on to the admins


def register(bot: TeleBot, services: Services) -> None:
    """Attach the handlers."""
    payments = services.payments
    prices = services.accounts.prices
    settings = services.settings

    def offer(update: Message | CallbackQuery, user: User, t: Texts) -> None:
        if not payments.packs:
            send(bot, update, t("buy_off_plan" if settings.monthly_plan else "buy_off"))
            return
        text = t(
            "buy",
            train=t.credits(prices.train),
            generate=t.credits(prices.generate),
            images=t.images(prices.images_per_generation),
            credits=t.credits(user.credits),
            packs=pack_lines(t, payments),
        )
        send(bot, update, text, reply_markup=keyboards.packs(t, payments.packs))

    @bot.message_handler(commands=["buy"])
    def buy(message: Message, user: User, t: Texts) -> None:
        offer(message, user, t)

    @bot.callback_query_handler(func=lambda call: call.data.startswith("buy:"))
    def chosen(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        try:
            order = payments.order(
                user.telegram_id, bounded_id(call.data.removeprefix("buy:")), key=request_key()
            )
        except (SellingOff, InvalidInput):  # a button from before the packs changed
            offer(call, user, t)
            return
        bot.send_invoice(
            chat_id(call), invoice_payload=payload_of(order), **invoice(t, payments, order)
        )

    @bot.pre_checkout_query_handler(func=lambda query: True)
    def pre_checkout(query: PreCheckoutQuery) -> None:
        """Answered inline, within Telegram's 10 seconds: ok only for an unpaid order of this
        user at the pack's price."""
        refusal = payments.check(
            query.from_user.id, query.invoice_payload, query.currency, query.total_amount
        )
        if refusal is None:
            bot.answer_pre_checkout_query(query.id, ok=True)
        else:
            t = Texts(query.from_user.language_code)
            bot.answer_pre_checkout_query(
                query.id, ok=False, error_message=t(f"precheckout_{refusal}")
            )

    @bot.message_handler(content_types=["successful_payment"])
    def paid(message: Message, user: User, t: Texts) -> None:
        done = message.successful_payment
        if (
            not isinstance(done.telegram_payment_charge_id, str)
            or not done.telegram_payment_charge_id
        ):
            log.error("a successful_payment without a charge id from user=%s", user.telegram_id)
            return  # not Telegram's: every payment it reports has one
        payment, balance = payments.paid(
            user.telegram_id,
            done.telegram_payment_charge_id,
            done.invoice_payload,
            done.currency,
            done.total_amount,
            done.subscription_expiration_date,
        )
        if balance is None:
            return  # the same charge again: granted before, said before
        # told in their private chat, whichever chat the payment was reported in
        if not payment.credits:
            bot.send_message(user.telegram_id, t("paid_unmatched"))
            return
        credits, balance = t.credits(payment.credits), t.credits(balance)
        if payment.expires_at is not None:
            date = f"{payment.expires_at:%Y-%m-%d}"
            text = t("paid_plan", credits=credits, date=date, balance=balance)
        else:
            text = t("paid", credits=credits, balance=balance)
        bot.send_message(user.telegram_id, text)

    # telebot gives a refunded_payment message no content type: it is matched by None
    @bot.message_handler(content_types=[None], func=lambda m: m.refunded_payment is not None)
    def refunded(message: Message) -> None:
        """Telegram refunded a payment (not through our /refund): take its credits back once."""
        done = payments.refunded(
            message.refunded_payment.telegram_payment_charge_id, message.from_user.id
        )
        if done is not None:
            tell_refunded(bot, done)

    def plan_said(t: Texts, telegram_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
        """/plan: the user's plan with a button to cancel or resume it, else the offer."""
        plan = settings.monthly_plan
        mine = payments.subscription(telegram_id)
        if mine is not None:
            subscription, credits = mine  # what they pay for, whatever MONTHLY_PLAN says now
            date = f"{subscription.expires_at:%Y-%m-%d}"
            if subscription.canceled:
                text, button, data = t("plan_canceled", date=date), "btn_plan_resume", "plan:on"
            else:
                text = t("plan_active", credits=t.credits(credits), date=date)
                button, data = "btn_plan_cancel", "plan:off"
            return text, keyboards.one_button(t(button), data)
        if plan is None:
            return t("plan_off"), None
        try:
            link = payments.plan_link(telegram_id, t.lang, key=request_key())
        except PaymentUnavailable:
            return t("invoice_unavailable"), None
        text = t(
            "plan_offer",
            credits=t.credits(plan.credits),
            stars=plan.stars,
            worth=worth(t, payments, plan),
        )
        button = InlineKeyboardButton(t("btn_plan_subscribe", stars=plan.stars), url=link)
        return text, InlineKeyboardMarkup().add(button)

    @bot.message_handler(commands=["plan"])
    def plan(message: Message, user: User, t: Texts) -> None:
        text, markup = plan_said(t, user.telegram_id)
        send(bot, message, text, reply_markup=markup)

    @bot.callback_query_handler(func=lambda call: call.data in ("plan:on", "plan:off"))
    def renew(call: CallbackQuery, user: User, t: Texts) -> None:
        bot.answer_callback_query(call.id)
        try:
            payments.renew(user.telegram_id, call.data == "plan:on")
        except TelegramRefused as exc:
            send(bot, call, t("plan_failed", reason=str(exc)[:100]))
            return
        text, markup = plan_said(t, user.telegram_id)
        replace(bot, call, text, reply_markup=markup)

    @bot.message_handler(commands=["paysupport"])
    def paysupport(message: Message, user: User, t: Texts) -> None:
        question = message.text.partition(" ")[2].strip()[:SUPPORT_MAX]
        contact = settings.support_contact
        also = t("paysupport_contact", contact=contact) if contact else ""
        if not question:
            days = t.count(settings.refund_days, "day")
            send(bot, message, t("paysupport", days=days, contact=also))
            return
        if not settings.admin_chat_ids:  # nobody to pass it to: say so, never drop it silently
            log.warning(
                "a /paysupport question from user=%s: ADMIN_CHAT_IDS is empty", user.telegram_id
            )
            send(bot, message, t("paysupport_nobody", contact=also))
            return
        en = Texts("en")
        mine = ", ".join(
            f"{p.charge_id} ({p.stars}⭐️, {p.created_at:%Y-%m-%d})"
            for p in payments.of(user.telegram_id)
        )
        who = f"@{user.username}" if user.username else (user.first_name or "?")
        for admin in settings.admin_chat_ids:
            bot.send_message(
                admin,
                en(
                    "paysupport_admin",
                    user=who,
                    telegram_id=user.telegram_id,
                    text=question,
                    payments=mine or "—",
                ),
            )
        send(bot, message, t("paysupport_sent"))

    @bot.message_handler(commands=["terms"])
    def terms(message: Message, t: Texts) -> None:
        send(bot, message, t("terms", days=t.count(settings.refund_days, "day")))
