"""Orders and payments: credits bought for Telegram Stars, granted once per charge id."""

from __future__ import annotations

from datetime import datetime

from webapp.records import Order, OrderKind, Payment, Subscription
from webapp.store import rows
from webapp.store.sqlite.connection import Database, now, ts
from webapp.store.sqlite.users import change_credits


class Payments(Database):
    """The store's order and payment methods."""

    def create_order(
        self,
        telegram_id: int,
        credits: int,
        stars: int,
        kind: OrderKind = OrderKind.PACK,
        request_key: str | None = None,
    ) -> Order:
        """A new unpaid order for a pack or the plan; a repeat of its `request_key` gives the
        order made before."""
        with self._write() as db:
            row = db.execute(
                "INSERT INTO orders (telegram_user_id, kind, credits, stars, created_at, "
                "request_key) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (telegram_user_id, request_key) DO NOTHING RETURNING *",
                (telegram_id, kind, credits, stars, ts(now()), request_key),
            ).fetchone()
            if row is None:
                row = db.execute(
                    "SELECT * FROM orders WHERE telegram_user_id = ? AND request_key = ?",
                    (telegram_id, request_key),
                ).fetchone()
        return rows.order(row)

    def get_order(self, order_id: int) -> Order | None:
        """One order, or None."""
        row = self._one("SELECT * FROM orders WHERE id = ?", (order_id,))
        return rows.order(row) if row else None

    def record_payment(
        self,
        telegram_id: int,
        charge_id: str,
        order_id: int | None,
        credits: int,
        stars: int,
        expires_at: datetime | None = None,
    ) -> tuple[Payment, int | None]:
        """Keep a payment and grant its credits, once per charge id, in one transaction:
        (the payment, the new balance), or (the payment kept before, None) for a repeat."""
        with self._write(flushed=True) as db:
            at = ts(now())
            row = db.execute(
                "INSERT INTO payments (charge_id, telegram_user_id, order_id, credits, stars, "
                "expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (charge_id) DO NOTHING RETURNING *",
                (charge_id, telegram_id, order_id, credits, stars, ts(expires_at), at),
            ).fetchone()
            if row is None:
                known = db.execute("SELECT * FROM payments WHERE charge_id = ?", (charge_id,))
                return rows.payment(known.fetchone()), None
            if order_id is not None:
                db.execute(
                    "UPDATE orders SET paid_at = COALESCE(paid_at, ?) WHERE id = ?", (at, order_id)
                )
            if expires_at is not None:  # a period of the plan: renewed until then
                db.execute(
                    "INSERT INTO subscriptions (telegram_user_id, charge_id, expires_at, "
                    "canceled, updated_at) VALUES (?, ?, ?, 0, ?) "
                    "ON CONFLICT (telegram_user_id) DO UPDATE SET "
                    "charge_id = excluded.charge_id, expires_at = excluded.expires_at, "
                    "canceled = 0, updated_at = excluded.updated_at "
                    "WHERE subscriptions.expires_at <= excluded.expires_at",
                    (telegram_id, charge_id, ts(expires_at), at),
                )
            balance = change_credits(db, telegram_id, credits, "purchase", charge_id)
        return rows.payment(row), balance

    def get_payment(self, charge_id: str) -> Payment | None:
        """One payment by its charge id, or None."""
        row = self._one("SELECT * FROM payments WHERE charge_id = ?", (charge_id,))
        return rows.payment(row) if row else None

    def get_payment_by_id(self, payment_id: int) -> Payment | None:
        """One payment by our id, or None."""
        row = self._one("SELECT * FROM payments WHERE id = ?", (payment_id,))
        return rows.payment(row) if row else None

    def get_subscription(self, telegram_id: int) -> Subscription | None:
        """The user's monthly plan, or None."""
        row = self._one("SELECT * FROM subscriptions WHERE telegram_user_id = ?", (telegram_id,))
        return rows.subscription(row) if row else None

    def set_subscription_canceled(self, telegram_id: int, canceled: bool) -> None:
        """Record that the plan will (not) renew."""
        with self._write() as db:
            db.execute(
                "UPDATE subscriptions SET canceled = ?, updated_at = ? WHERE telegram_user_id = ?",
                (int(canceled), ts(now()), telegram_id),
            )

    def end_subscription(self, telegram_id: int) -> None:
        """The plan ends now and will not renew."""
        with self._write() as db:
            at = ts(now())
            db.execute(
                "UPDATE subscriptions SET canceled = 1, expires_at = ?, updated_at = ? "
                "WHERE telegram_user_id = ?",
                (at, at, telegram_id),
            )

    def payments_of(self, telegram_id: int, limit: int = 5) -> list[Payment]:
        """The user's latest payments, newest first."""
        found = self._all(
            "SELECT * FROM payments WHERE telegram_user_id = ? ORDER BY id DESC LIMIT ?",
            (telegram_id, limit),
        )
        return [rows.payment(r) for r in found]

    def refund_payment(self, charge_id: str) -> Payment | None:
        """Mark a payment refunded and take its credits back (what is left of them, if some
        were spent), once: the refunded payment, or None when it was unknown or refunded before."""
        with self._write(flushed=True) as db:
            row = db.execute(
                "SELECT * FROM payments WHERE charge_id = ? AND refunded_at IS NULL", (charge_id,)
            ).fetchone()
            if row is None:
                return None
            have = db.execute(
                "SELECT credits FROM telegram_users WHERE telegram_id = ?",
                (row["telegram_user_id"],),
            ).fetchone()
            take = min(row["credits"], have["credits"] if have else 0)
            if take:
                change_credits(db, row["telegram_user_id"], -take, "purchase_refund", charge_id)
            row = db.execute(
                "UPDATE payments SET refunded_at = ?, taken_back = ? WHERE id = ? RETURNING *",
                (ts(now()), take, row["id"]),
            ).fetchone()
        return rows.payment(row)
