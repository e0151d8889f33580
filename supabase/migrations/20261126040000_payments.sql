-- Selling credits for Telegram Stars: the orders behind invoices (a pack, or the monthly plan),
-- the payments Telegram made for them, each user's plan subscription, and the functions that
-- grant and take back credits, each in one transaction.
-- Neither table refers to telegram_users: a payment is kept after /delete (it may still be
-- refunded, and it is the record of money taken). The client roles get nothing, as elsewhere.

CREATE TABLE IF NOT EXISTS orders (
  id BIGSERIAL PRIMARY KEY,
  telegram_user_id BIGINT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'pack' CHECK (kind IN ('pack', 'plan')),
  credits INTEGER NOT NULL CHECK (credits > 0),
  stars INTEGER NOT NULL CHECK (stars > 0),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  paid_at TIMESTAMP WITH TIME ZONE
);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;

CREATE TABLE IF NOT EXISTS payments (
  id BIGSERIAL PRIMARY KEY,
  charge_id TEXT UNIQUE NOT NULL,  -- telegram_payment_charge_id: one grant per charge, ever
  telegram_user_id BIGINT NOT NULL,
  order_id BIGINT REFERENCES orders(id),
  credits INTEGER NOT NULL,
  stars INTEGER NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  refunded_at TIMESTAMP WITH TIME ZONE,
  taken_back INTEGER NOT NULL DEFAULT 0,
  expires_at TIMESTAMP WITH TIME ZONE  -- a plan's payment: when the period it paid for ends
);
CREATE INDEX IF NOT EXISTS payments_user ON payments (telegram_user_id, id);
ALTER TABLE payments ENABLE ROW LEVEL SECURITY;

-- The monthly plan: one per user, renewed by each period's payment.
CREATE TABLE IF NOT EXISTS subscriptions (
  telegram_user_id BIGINT PRIMARY KEY,
  charge_id TEXT NOT NULL,  -- the latest payment's, for editUserStarSubscription
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
  canceled BOOLEAN NOT NULL DEFAULT FALSE,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;

-- Keep a payment, mark its order paid and grant the credits, once per charge id (a plan's
-- payment also renews the subscription until p_expires_at):
-- {"payment": …, "balance": the new balance, or null when the charge was recorded before}.
CREATE OR REPLACE FUNCTION record_payment(
  p_telegram_id BIGINT, p_charge_id TEXT, p_order_id BIGINT, p_credits INTEGER, p_stars INTEGER,
  p_expires_at TIMESTAMP WITH TIME ZONE
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_payment payments;
  v_balance INTEGER;
BEGIN
  INSERT INTO payments (charge_id, telegram_user_id, order_id, credits, stars, expires_at)
  VALUES (p_charge_id, p_telegram_id, p_order_id, p_credits, p_stars, p_expires_at)
  ON CONFLICT (charge_id) DO NOTHING
  RETURNING * INTO v_payment;
  IF NOT FOUND THEN
    SELECT * INTO v_payment FROM payments WHERE charge_id = p_charge_id;
    RETURN json_build_object('payment', row_to_json(v_payment), 'balance', NULL);
  END IF;
  UPDATE orders SET paid_at = COALESCE(paid_at, NOW()) WHERE id = p_order_id;
  IF p_expires_at IS NOT NULL THEN
    INSERT INTO subscriptions (telegram_user_id, charge_id, expires_at, canceled, updated_at)
    VALUES (p_telegram_id, p_charge_id, p_expires_at, FALSE, NOW())
    ON CONFLICT (telegram_user_id) DO UPDATE
    SET charge_id = excluded.charge_id, expires_at = excluded.expires_at, canceled = FALSE,
        updated_at = NOW()
    WHERE subscriptions.expires_at <= excluded.expires_at;
  END IF;
  v_balance := change_credits(p_telegram_id, p_credits, 'purchase', p_charge_id);
  RETURN json_build_object('payment', row_to_json(v_payment), 'balance', v_balance);
END $$;

-- Mark a payment refunded and take its credits back (what is left of them), once: the payment,
-- or NULL when it is unknown or was refunded before.
CREATE OR REPLACE FUNCTION refund_payment(p_charge_id TEXT)
RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_payment payments;
  v_take INTEGER;
BEGIN
  SELECT * INTO v_payment FROM payments
  WHERE charge_id = p_charge_id AND refunded_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  SELECT LEAST(v_payment.credits, COALESCE(MAX(credits), 0)) INTO v_take
  FROM telegram_users WHERE telegram_id = v_payment.telegram_user_id;
  IF v_take > 0 THEN
    PERFORM change_credits(v_payment.telegram_user_id, -v_take, 'purchase_refund', p_charge_id);
  END IF;
  UPDATE payments SET refunded_at = NOW(), taken_back = v_take WHERE id = v_payment.id
  RETURNING * INTO v_payment;
  RETURN row_to_json(v_payment);
END $$;

-- /stats, now with what was sold.
CREATE OR REPLACE FUNCTION bot_stats(p_since TIMESTAMP WITH TIME ZONE)
RETURNS JSON
LANGUAGE sql STABLE SET search_path = public AS $$
  SELECT json_build_object(
    'users', (SELECT COUNT(*) FROM telegram_users),
    'models', (SELECT COUNT(*) FROM telegram_models),
    'models_ready', (SELECT COUNT(*) FROM telegram_models WHERE status = 'ready'),
    'generations', (SELECT COUNT(*) FROM telegram_prompts),
    'spent_since', (SELECT COALESCE(-SUM(delta), 0) FROM credit_ledger
                    WHERE created_at >= p_since
                      AND reason IN ('train', 'generate', 'train_refund', 'generate_refund')),
    'stars_earned', (SELECT COALESCE(SUM(stars), 0) FROM payments),
    'stars_refunded', (SELECT COALESCE(SUM(stars), 0) FROM payments WHERE refunded_at IS NOT NULL),
    'paying_users', (SELECT COUNT(DISTINCT telegram_user_id) FROM payments)
  );
$$;

DO $$
DECLARE
  v_role TEXT;
  v_table TEXT;
  v_function TEXT;
BEGIN
  FOREACH v_function IN ARRAY ARRAY[
      'record_payment(BIGINT, TEXT, BIGINT, INTEGER, INTEGER, TIMESTAMP WITH TIME ZONE)',
      'refund_payment(TEXT)',
      'bot_stats(TIMESTAMP WITH TIME ZONE)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
  FOREACH v_role IN ARRAY ARRAY['anon', 'authenticated'] LOOP
    CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_role);
    FOREACH v_table IN ARRAY ARRAY['orders', 'payments'] LOOP
      EXECUTE format('REVOKE ALL ON TABLE public.%I FROM %I', v_table, v_role);
      EXECUTE format('REVOKE ALL ON SEQUENCE public.%I FROM %I', v_table || '_id_seq', v_role);
    END LOOP;
    EXECUTE format('REVOKE ALL ON TABLE public.subscriptions FROM %I', v_role);
    EXECUTE format('REVOKE ALL ON FUNCTION record_payment(BIGINT, TEXT, BIGINT, INTEGER, '
                   'INTEGER, TIMESTAMP WITH TIME ZONE) FROM %I', v_role);
    EXECUTE format('REVOKE ALL ON FUNCTION refund_payment(TEXT) FROM %I', v_role);
  END LOOP;
END $$;
