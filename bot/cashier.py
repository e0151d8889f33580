"""Telegram's side of selling credits: Stars invoices (in the chat and as links for the Mini
App) and refunds, with the words in the buyer's language."""

from __future__ import annotations

import requests
from telebot import TeleBot
from telebot.apihelper import ApiHTTPException, ApiTelegramException
from telebot.types import LabeledPrice

from webapp.records import Order, Pack, PaymentUnavailable
from webapp.services.payments import CURRENCY, Payments, payload_of
from webapp.services.ports import AlreadyRefunded, RefundRefused
from webapp.texts import Texts

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
    if order.kind == "plan":
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


class TelegramCashier:
    """The Cashier port on the bot."""

    def __init__(self, bot: TeleBot) -> None:
        self.bot = bot
        self.payments: Payments | None = None  # set once the services are built

    def invoice_link(self, order: Order, language_code: str | None) -> str:
        """A t.me/invoice link for the Mini App's openInvoice."""
        fields = invoice(Texts(language_code), self.payments, order)
        if order.kind == "plan":
            fields["subscription_period"] = MONTH
        try:
            return self.bot.create_invoice_link(payload=payload_of(order), **fields)
        except TELEGRAM_FAILED as exc:
            raise PaymentUnavailable(
                f"Telegram: {why(exc)}", reason="payment_unavailable"
            ) from None

    def refund(self, telegram_id: int, charge_id: str) -> None:
        """refundStarPayment; Telegram's refusals become RefundRefused / AlreadyRefunded."""
        try:
            self.bot.refund_star_payment(telegram_id, charge_id)
        except TELEGRAM_FAILED as exc:
            if ALREADY_REFUNDED in why(exc):
                raise AlreadyRefunded(why(exc)) from None
            raise RefundRefused(why(exc)) from None

    def renew(self, telegram_id: int, charge_id: str, renew: bool) -> None:
        """editUserStarSubscription: cancel the plan's renewal, or resume it."""
        try:
            self.bot.edit_user_star_subscription(telegram_id, charge_id, is_canceled=not renew)
        except TELEGRAM_FAILED as exc:
            raise RefundRefused(why(exc)) from None
