-- Selling credits for Telegram Stars: the orders behind invoices, and the payments Telegram made
-- for them. Neither refers to telegram_users: a payment is kept after /delete (it may still be
-- refunded, and it is the record of money taken).
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL,
  credits INTEGER NOT NULL CHECK (credits > 0),
  stars INTEGER NOT NULL CHECK (stars > 0),
  created_at TEXT NOT NULL,
  paid_at TEXT
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_id TEXT UNIQUE NOT NULL,  -- telegram_payment_charge_id: one grant per charge, ever
  telegram_user_id INTEGER NOT NULL,
  order_id INTEGER REFERENCES orders(id),
  credits INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  refunded_at TEXT,
  taken_back INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX payments_user ON payments (telegram_user_id, id);
