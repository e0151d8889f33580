-- Selling credits for Telegram Stars: the orders behind invoices (a pack, or the monthly plan),
-- the payments Telegram made for them, and each user's plan subscription. Neither refers to telegram_users: a payment is kept after /delete (it may still be
-- refunded, and it is the record of money taken).
CREATE TABLE orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT 'pack' CHECK (kind IN ('pack', 'plan')),
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
  taken_back INTEGER NOT NULL DEFAULT 0,
  expires_at TEXT  -- a plan's payment: when the period it paid for ends
);
CREATE INDEX payments_user ON payments (telegram_user_id, id);
CREATE TABLE subscriptions (  -- the monthly plan: one per user, renewed by each period's payment
  telegram_user_id INTEGER PRIMARY KEY,
  charge_id TEXT NOT NULL,  -- the latest payment's, for editUserStarSubscription
  expires_at TEXT NOT NULL,
  canceled INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);
