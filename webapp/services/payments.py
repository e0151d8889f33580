"""Selling credits for Telegram Stars: packs, orders, the pre-checkout check, granting a payment
once per charge id, and refunds. Telegram's side (invoices, refunds) is the Cashier port.

Credits are granted only when Telegram reports a `successful_payment` to the webhook, never on
a client's word; the charge id (not the order) is the key, since an old invoice can be paid
again, each time with a new charge id."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from webapp.records import (
    InvalidInput,
    Order,
    OrderKind,
    Pack,
    Payment,
    SellingOff,
    Subscription,
    User,
    bounded_id,
)
from webapp.services.ports import AlreadyRefunded, Cashier, TelegramRefused
from webapp.settings import Settings
from webapp.store import Store

log = logging.getLogger("payments")

CURRENCY = "XTR"  # Telegram Stars: the only currency for digital goods


class Refusal(StrEnum):
    """Why a pre-checkout is answered ok=False (each has words in texts: precheckout_<value>)."""

    UNKNOWN_ORDER = "unknown_order"
    NOT_YOURS = "not_yours"
    ALREADY_PAID = "already_paid"
    CHANGED = "changed"  # the price or currency differ from the pack (or it is no longer sold)


class RefundOutcome(StrEnum):
    """How a refund ended (an admin's /refund, or Telegram's refunded_payment: DONE)."""

    UNKNOWN = "unknown"  # no payment with that charge id
    ALREADY = "already"  # refunded before
    SPENT = "spent"  # the user has spent some of the credits: ask the admin to confirm
    REFUSED = "refused"  # Telegram would not refund it
    DONE = "done"


@dataclass(frozen=True)
class Refund:
    """What /refund did: the outcome, the payment, and the user's balance or Telegram's reason."""

    outcome: RefundOutcome
    payment: Payment | None = None
    have: int = 0  # the user's credits (SPENT)
    reason: str = ""  # Telegram's words (REFUSED)
    user: User | None = None  # the buyer after the refund (DONE), if they are still here


def order_id_of(payload: str | None) -> int | None:
    """Our order id from an invoice payload (`o<id>`), or None."""
    if not isinstance(payload, str) or not payload.startswith("o"):
        return None
    return bounded_id(payload[1:])


def payload_of(order: Order) -> str:
    """The invoice payload naming an order."""
    return f"o{order.id}"


class Payments:
    """Packs for sale, orders, and what a payment or a refund does to the credits."""

    def __init__(self, store: Store, settings: Settings, cashier: Cashier) -> None:
        self.store = store
        self.settings = settings
        self.cashier = cashier
        self.packs: tuple[Pack, ...] = settings.credit_packs

    def worth(self, pack: Pack) -> tuple[int, int]:
        """What a pack buys at today's prices: (trainings, generations)."""
        train, generate = self.settings.train_cost, self.settings.generate_cost
        return (pack.credits // train if train else 0, pack.credits // generate if generate else 0)

    def pack(self, credits) -> Pack:
        """The pack of that many credits; SellingOff when nothing is sold, else InvalidInput."""
        if not self.packs:
            raise SellingOff("Credits are not on sale.", reason="selling_off")
        for pack in self.packs:
            if type(credits) is int and pack.credits == credits:
                return pack
        raise InvalidInput(
            "There is no such pack.",
            reason="unknown_pack",
            packs=[p.credits for p in self.packs],
        )

    def order(self, telegram_id: int, credits, key: str | None = None) -> Order:
        """A new order for the pack of `credits`: its id is the invoice's payload. Once per
        `key` (the chat's update that asked for it)."""
        pack = self.pack(credits)
        order = self.store.create_order(telegram_id, pack.credits, pack.stars, request_key=key)
        log.info("order=%s user=%s pack=%s", order.id, telegram_id, pack.credits)
        return order

    def invoice_link(self, telegram_id: int, credits, language_code: str | None) -> str:
        """An invoice link for the Mini App's openInvoice (a new order each time)."""
        self.pack(credits)  # unknown or not sold: refused before anything is written
        self._payable()
        return self.cashier.invoice_link(self.order(telegram_id, credits), language_code)

    def _payable(self) -> None:
        """SellingOff when there is no Telegram to pay in (no order is made then)."""
        if not self.cashier.available:
            raise SellingOff(
                "Payments need Telegram: there is no bot token (dev mode).", reason="no_telegram"
            )

    def plan_link(self, telegram_id: int, language_code: str | None, key: str | None = None) -> str:
        """A Stars subscription link for the monthly plan (a new order each time, but once per
        `key`: the chat's update that asked for it)."""
        plan = self.settings.monthly_plan
        if plan is None:
            raise SellingOff("There is no monthly plan.", reason="no_plan")
        self._payable()
        order = self.store.create_order(
            telegram_id, plan.credits, plan.stars, kind=OrderKind.PLAN, request_key=key
        )
        log.info("order=%s user=%s plan=%s", order.id, telegram_id, plan.credits)
        return self.cashier.invoice_link(order, language_code)

    def subscription(self, telegram_id: int) -> tuple[Subscription, int] | None:
        """The user's paid monthly plan and the credits each period brings (what they pay
        for, whatever MONTHLY_PLAN says now), or None."""
        plan = self.store.get_subscription(telegram_id)
        if plan is None or not plan.active():
            return None
        paid = self.store.get_payment(plan.charge_id)
        return plan, paid.credits if paid else 0

    def stop_plan(self, telegram_id: int) -> None:
        """Before /delete: a paid plan stops renewing (Telegram would charge again; best
        effort: a refusal is logged)."""
        plan = self.store.get_subscription(telegram_id)
        if plan is None or not plan.active() or plan.canceled:
            return
        try:
            self.cashier.renew(telegram_id, plan.charge_id, False)
        except TelegramRefused as exc:
            log.warning("plan of user=%s not canceled on Telegram: %s", telegram_id, exc)
        self.store.set_subscription_canceled(telegram_id, True)

    def renew(self, telegram_id: int, renew: bool) -> Subscription | None:
        """Cancel the plan's renewal or resume it (Telegram first); the plan after, or None
        when the user has no paid plan. Raises TelegramRefused when Telegram refuses."""
        plan = self.store.get_subscription(telegram_id)
        if plan is None or not plan.active():
            return None
        self.cashier.renew(telegram_id, plan.charge_id, renew)
        self.store.set_subscription_canceled(telegram_id, not renew)
        log.info("plan user=%s %s", telegram_id, "resumed" if renew else "canceled")
        return self.store.get_subscription(telegram_id)

    def _on_sale(self, order: Order) -> bool:
        """The order's pack (or plan) is still sold at its price."""
        pack = Pack(order.credits, order.stars)
        return (
            pack == self.settings.monthly_plan
            if order.kind == OrderKind.PLAN
            else pack in self.packs
        )

    def check(self, telegram_id: int, payload: str, currency: str, amount: int) -> Refusal | None:
        """Telegram's pre-checkout: None when the payment may go ahead, else why not. A plan's
        order is paid again each period, so only a pack's order can be already paid."""
        order_id = order_id_of(payload)
        order = self.store.get_order(order_id) if order_id else None
        refusal = None
        if order is None:
            refusal = Refusal.UNKNOWN_ORDER
        elif order.telegram_id != telegram_id:
            refusal = Refusal.NOT_YOURS
        elif order.paid_at is not None and order.kind != OrderKind.PLAN:
            refusal = Refusal.ALREADY_PAID
        elif currency != CURRENCY or amount != order.stars or not self._on_sale(order):
            refusal = Refusal.CHANGED
        log.info("pre-checkout user=%s order=%s: %s", telegram_id, order_id, refusal or "ok")
        return refusal

    def paid(
        self,
        telegram_id: int,
        charge_id: str,
        payload: str,
        currency: str,
        amount: int,
        expires: int | None = None,
    ) -> tuple[Payment, int | None]:
        """Telegram took the Stars: keep the payment and grant the order's credits, once per
        charge id. (payment, new balance), or (payment, None) for a charge seen before.

        A payment that matches no order of this user (it cannot pass the pre-checkout, but money
        was taken) is kept with no credits and reported as an error for an admin to settle.
        `expires` (a Unix time) comes with a plan's payments: the period it paid for."""
        order_id = order_id_of(payload)
        order = self.store.get_order(order_id) if order_id else None
        credits = 0
        if (
            order is not None
            and order.telegram_id == telegram_id
            and currency == CURRENCY
            and amount == order.stars
        ):
            credits = order.credits
        else:
            log.error(
                "payment charge matches no order of user=%s payload=%r: kept, no credits",
                telegram_id,
                payload[:32],
            )
            order = None
        until = None
        if order is not None and order.kind == OrderKind.PLAN and isinstance(expires, int):
            until = datetime.fromtimestamp(expires, UTC)
        stars = amount if currency == CURRENCY and isinstance(amount, int) else 0
        payment, balance = self.store.record_payment(
            telegram_id, charge_id, order.id if order else None, credits, stars, until
        )
        if balance is None:
            log.info("payment=%s user=%s is a repeat; nothing granted", payment.id, telegram_id)
        else:
            log.info("payment=%s user=%s +%s credits", payment.id, telegram_id, credits)
        return payment, balance

    def of(self, telegram_id: int) -> list[Payment]:
        """A user's latest payments (for /paysupport)."""
        return self.store.payments_of(telegram_id)

    def refund_by_id(self, payment_id: int | None, force: bool = False) -> Refund:
        """/refund confirmed with its button, which names our payment id."""
        payment = self.store.get_payment_by_id(payment_id) if payment_id else None
        if payment is None:
            return Refund(RefundOutcome.UNKNOWN)
        return self.refund(payment.charge_id, force)

    def refund(self, charge_id: str, force: bool = False) -> Refund:
        """An admin's refund: Telegram gives the Stars back, then the credits are taken back
        once. When the user has spent some of them, nothing happens unless `force`."""
        payment = self.store.get_payment(charge_id)
        if payment is None:
            return Refund(RefundOutcome.UNKNOWN)
        if payment.refunded_at is not None:
            return Refund(RefundOutcome.ALREADY, payment)
        user = self.store.get_user(payment.telegram_id)
        have = user.credits if user else 0
        if have < payment.credits and not force:
            return Refund(RefundOutcome.SPENT, payment, have=have)
        try:
            self.cashier.refund(payment.telegram_id, charge_id)
        except AlreadyRefunded:
            log.info("payment=%s was refunded on Telegram already; recording it", payment.id)
        except TelegramRefused as exc:
            log.warning("payment=%s refund refused by Telegram: %s", payment.id, exc)
            return Refund(RefundOutcome.REFUSED, payment, reason=str(exc))
        return self.refunded(charge_id) or Refund(RefundOutcome.ALREADY, payment)

    def refunded(self, charge_id: str, telegram_id: int | None = None) -> Refund | None:
        """Telegram refunded a payment (our /refund, or a `refunded_payment` from elsewhere,
        which must come from the buyer): take its credits back once. None when unknown, not
        theirs, or already recorded."""
        if telegram_id is not None:
            known = self.store.get_payment(charge_id)
            if known is None or known.telegram_id != telegram_id:
                log.warning("refunded_payment from user=%s for a charge not theirs", telegram_id)
                return None
        payment = self.store.refund_payment(charge_id)
        if payment is None:
            return None
        log.info("payment=%s refunded; %s credits taken back", payment.id, payment.taken_back)
        if payment.expires_at is not None:  # a period of the plan: the plan ends with it
            self.stop_plan(payment.telegram_id)
            self.store.end_subscription(payment.telegram_id)
        return Refund(RefundOutcome.DONE, payment, user=self.store.get_user(payment.telegram_id))
