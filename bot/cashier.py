"""Telegram's side of selling credits: the fields of a Stars invoice, invoice links (the Mini App,
/plan), refunds and subscriptions (the Cashier port), telling a buyer of a refund, and what
counts as a message about money — with the words in the buyer's language."""

from __future__ import annotations

import logging

import requests
from telebot import TeleBot
from telebot.apihelper import ApiHTTPException, ApiTelegramException
from telebot.types import LabeledPrice, Message

from webapp.records import Order, OrderKind, Pack, PaymentUnavailable, bounded_id
from webapp.services.payments import CURRENCY, Payments, Refund, payload_of
from webapp.services.ports import AlreadyRefunded, TelegramRefused
from webapp.texts import Texts

log = logging.getLogger("payments")

ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
# Telegram answered no (JSON), with an error page (a proxy's 502), or not at all
TELEGRAM_FAILED = (ApiTelegramException, ApiHTTPException, requests.RequestException)


def why(exc: Exception) -> str:
    """Telegram's reason, or what went wrong on the way (no URL: it holds the token)."""
    if isinstance(exc, ApiTelegramException):
        return exc.description or str(exc.error_code)
    return f"no answer from Telegram ({type(exc).__name__}); the outcome is unknown"


MONTH = 2592000  # the only subscription period Telegram offers: 30 days


def worth(t: Texts, payments: Payments, pack: Pack) -> str:
    """What a pack buys at today's prices: "10 trainings or 10 generations"."""
    trainings, generations = payments.worth(pack)
    return t(
        "pack_worth",
        trainings=t.count(trainings, "training"),
        generations=t.count(generations, "generation"),
    )


def pack_lines(t: Texts, payments: Payments) -> str:
    """Every pack on sale, a line each, with its price and what it buys."""
    return "\n".join(
        t(
            "pack_line",
            credits=t.credits(p.credits),
            stars=p.stars,
            worth=worth(t, payments, p),
        )
        for p in payments.packs
    )


def invoice(t: Texts, payments: Payments, order: Order) -> dict:
    """The fields of a Stars invoice for an order (send_invoice and create_invoice_link)."""
    credits = t.credits(order.credits)
    if order.kind == OrderKind.PLAN:
        title, description = (
            t("plan_title", credits=credits),
            t("plan_description", credits=credits),
        )
    else:
        title = t("invoice_title", credits=credits)
        description = t(
            "invoice_description",
            credits=credits,
            worth=worth(t, payments, Pack(order.credits, order.stars)),
        )
    return {
        "title": title,
        "description": description,
        "provider_token": "",  # Stars: no payment provider
        "currency": CURRENCY,
        "prices": [LabeledPrice(t("invoice_label", credits=credits), order.stars)],
    }


def is_payment(message: Message) -> bool:
    """A service message about money from a person: a payment or a refund (never dropped,
    never flooded, whichever chat it comes from)."""
    return (
        isinstance(message, Message)
        and (message.successful_payment is not None or message.refunded_payment is not None)
        and message.from_user is not None
        and bounded_id(message.from_user.id) is not None
    )


def tell_refunded(bot: TeleBot, done: Refund) -> None:
    """Tell the buyer, in their language, that a payment was refunded and what it took back
    (if they can be told: the refund is made either way)."""
    t = Texts(done.user.language_code if done.user else None)
    balance = done.user.credits if done.user else 0
    text = t(
        "refunded_to_user",
        stars=t.stars(done.payment.stars),
        taken=t.credits(done.payment.taken_back),
        balance=t.credits(balance),
    )
    try:
        bot.send_message(done.payment.telegram_id, text)
    except Exception as exc:  # they blocked the bot, or never wrote to it
        log.info("payment=%s: the buyer could not be told (%s)", done.payment.id, exc)


class TelegramCashier:
    """The Cashier port on the bot."""

    available = True

    def __init__(self, bot: TeleBot) -> None:
        self.bot = bot
        self.payments: Payments | None = None  # set once the services are built

    def invoice_link(self, order: Order, language_code: str | None) -> str:
        """A t.me/invoice link for the Mini App's openInvoice."""
        fields = invoice(Texts(language_code), self.payments, order)
        if order.kind == OrderKind.PLAN:
            fields["subscription_period"] = MONTH
        try:
            return self.bot.create_invoice_link(payload=payload_of(order), **fields)
        except TELEGRAM_FAILED as exc:
            raise PaymentUnavailable(
                f"Telegram: {why(exc)}", reason="payment_unavailable"
            ) from None

    def refund(self, telegram_id: int, charge_id: str) -> None:
        """refundStarPayment; Telegram's refusals become TelegramRefused / AlreadyRefunded."""
        try:
            self.bot.refund_star_payment(telegram_id, charge_id)
        except TELEGRAM_FAILED as exc:
            if ALREADY_REFUNDED in why(exc):
                raise AlreadyRefunded(why(exc)) from None
            raise TelegramRefused(why(exc)) from None

    def renew(self, telegram_id: int, charge_id: str, renew: bool) -> None:
        """editUserStarSubscription: cancel the plan's renewal, or resume it."""
        try:
            self.bot.edit_user_star_subscription(telegram_id, charge_id, is_canceled=not renew)
        except TELEGRAM_FAILED as exc:
            raise TelegramRefused(why(exc)) from None
