"""Orders and payments: credits bought for Telegram Stars, granted once per charge id."""

from __future__ import annotations

from datetime import datetime

from webapp.records import Order, OrderKind, Payment, Subscription
from webapp.store import rows
from webapp.store.supabase.client import PostgREST, now


class Payments(PostgREST):
    """The store's order and payment methods (record_payment() and refund_payment())."""

    def create_order(
        self,
        telegram_id: int,
        credits: int,
        stars: int,
        kind: OrderKind = OrderKind.PACK,
        request_key: str | None = None,
    ) -> Order:
        """A new unpaid order; a repeat of its `request_key` gives the order made before."""
        row = {"telegram_user_id": telegram_id, "kind": kind, "credits": credits, "stars": stars}
        if request_key is None:
            return rows.order(self._run(self._table("orders").insert(row))[0])
        created = self._run(
            self._table("orders").upsert(
                {**row, "request_key": request_key},
                on_conflict="telegram_user_id,request_key",
                ignore_duplicates=True,
            )
        )
        if not created:
            created = self._run(
                self._table("orders")
                .select("*")
                .eq("telegram_user_id", telegram_id)
                .eq("request_key", request_key)
            )
        return rows.order(created[0])

    def get_order(self, order_id: int) -> Order | None:
        """One order, or None."""
        found = self._run(self._table("orders").select("*").eq("id", order_id))
        return rows.order(found[0]) if found else None

    def record_payment(
        self,
        telegram_id: int,
        charge_id: str,
        order_id: int | None,
        credits: int,
        stars: int,
        expires_at: datetime | None = None,
    ) -> tuple[Payment, int | None]:
        """Keep a payment and grant its credits once per charge id, in one transaction."""
        result = self._rpc(
            "record_payment",
            p_telegram_id=telegram_id,
            p_charge_id=charge_id,
            p_order_id=order_id,
            p_credits=credits,
            p_stars=stars,
            p_expires_at=expires_at.isoformat() if expires_at else None,
        )
        return rows.payment(result["payment"]), result["balance"]

    def get_payment(self, charge_id: str) -> Payment | None:
        """One payment by its charge id, or None."""
        found = self._run(self._table("payments").select("*").eq("charge_id", charge_id))
        return rows.payment(found[0]) if found else None

    def get_payment_by_id(self, payment_id: int) -> Payment | None:
        """One payment by our id, or None."""
        found = self._run(self._table("payments").select("*").eq("id", payment_id))
        return rows.payment(found[0]) if found else None

    def get_subscription(self, telegram_id: int) -> Subscription | None:
        """The user's monthly plan, or None."""
        found = self._run(
            self._table("subscriptions").select("*").eq("telegram_user_id", telegram_id)
        )
        return rows.subscription(found[0]) if found else None

    def set_subscription_canceled(self, telegram_id: int, canceled: bool) -> None:
        """Record that the plan will (not) renew."""
        self._run(
            self._table("subscriptions")
            .update({"canceled": canceled, "updated_at": now()})
            .eq("telegram_user_id", telegram_id)
        )

    def end_subscription(self, telegram_id: int) -> None:
        """The plan ends now and will not renew."""
        self._run(
            self._table("subscriptions")
            .update({"canceled": True, "expires_at": now(), "updated_at": now()})
            .eq("telegram_user_id", telegram_id)
        )

    def payments_of(self, telegram_id: int, limit: int = 5) -> list[Payment]:
        """The user's latest payments, newest first."""
        found = self._run(
            self._table("payments")
            .select("*")
            .eq("telegram_user_id", telegram_id)
            .order("id", desc=True)
            .limit(limit)
        )
        return [rows.payment(r) for r in found]

    def refund_payment(self, charge_id: str) -> Payment | None:
        """Mark refunded and take back what is left of its credits, once (refund_payment())."""
        result = self._rpc("refund_payment", p_charge_id=charge_id)
        return rows.payment(result) if result else None
