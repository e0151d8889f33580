-- The Astria Telegram bot's schema: the seed's three tables exactly as the seed defines them
-- (so a project that already has them keeps its data), then what the product adds.
-- Credits change only through the functions at the end, called with `rpc`: never a
-- read-modify-write from the app. Row-level security is on everywhere with no policy for anon
-- or authenticated: only the server, with the service role, reads and writes.

-- 1. The seed's tables ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS telegram_users (
  id SERIAL PRIMARY KEY,
  telegram_id BIGINT UNIQUE NOT NULL,
  username TEXT,
  first_name TEXT,
  last_name TEXT,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  last_active TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  status TEXT DEFAULT 'active',
  credits INTEGER DEFAULT 0
);

CREATE TABLE IF NOT EXISTS telegram_models (
  id SERIAL PRIMARY KEY,
  telegram_user_id BIGINT REFERENCES telegram_users(telegram_id),
  model_id INTEGER NOT NULL, -- ID модели из основной таблицы models
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  status TEXT DEFAULT 'training'
);

CREATE TABLE IF NOT EXISTS telegram_prompts (
  id SERIAL PRIMARY KEY,
  telegram_user_id BIGINT REFERENCES telegram_users(telegram_id),
  model_id INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  prompt_id TEXT, -- ID промпта из Astria API
  created_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  status TEXT DEFAULT 'processing',
  images JSONB -- массив URL-адресов сгенерированных изображений
);

-- 2. What the product adds to them ---------------------------------------------------------------

ALTER TABLE telegram_users
  ADD COLUMN IF NOT EXISTS language_code TEXT;
UPDATE telegram_users SET credits = 0 WHERE credits IS NULL;
ALTER TABLE telegram_users
  ALTER COLUMN credits SET NOT NULL,
  ADD CONSTRAINT telegram_users_credits_not_negative CHECK (credits >= 0);

-- model_id is Astria's tune id, known only once Astria has answered.
ALTER TABLE telegram_models
  ALTER COLUMN model_id DROP NOT NULL,
  ALTER COLUMN model_id TYPE BIGINT,
  ADD COLUMN IF NOT EXISTS name TEXT NOT NULL DEFAULT '',
  ADD COLUMN IF NOT EXISTS class_name TEXT NOT NULL DEFAULT 'person',
  ADD COLUMN IF NOT EXISTS title TEXT UNIQUE, -- a UUID: Astria's idempotency key for the tune
  ADD COLUMN IF NOT EXISTS eta TIMESTAMP WITH TIME ZONE,
  ADD COLUMN IF NOT EXISTS error TEXT,
  ADD COLUMN IF NOT EXISTS photo_file_ids JSONB NOT NULL DEFAULT '[]'::jsonb, -- Telegram file ids
  ADD COLUMN IF NOT EXISTS trained_at TIMESTAMP WITH TIME ZONE,
  ADD COLUMN IF NOT EXISTS upload_claimed_at TIMESTAMP WITH TIME ZONE,
  ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW();

-- model_id here is telegram_models.id (our model), as the chat and the Mini App use it.
ALTER TABLE telegram_prompts
  ADD COLUMN IF NOT EXISTS num_images INTEGER NOT NULL DEFAULT 4,
  ADD COLUMN IF NOT EXISTS error TEXT,
  ADD COLUMN IF NOT EXISTS submit_claimed_at TIMESTAMP WITH TIME ZONE,
  ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW();

-- 3. New tables -----------------------------------------------------------------------------------

-- Every change of credits, with why and what it refers to; (reason, ref) is unique, so a
-- refund or a grant cannot happen twice. telegram_users.credits = SUM(delta) per user.
CREATE TABLE IF NOT EXISTS credit_ledger (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  telegram_user_id BIGINT NOT NULL REFERENCES telegram_users(telegram_id),
  delta INTEGER NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  UNIQUE (reason, ref)
);

-- Balances that existed before the ledger start it, so the sum matches from day one.
INSERT INTO credit_ledger (telegram_user_id, delta, reason, ref)
SELECT telegram_id, credits, 'opening_balance', telegram_id::text
FROM telegram_users WHERE credits <> 0
ON CONFLICT (reason, ref) DO NOTHING;

-- Chat flow state: in the database, so a restart or another worker loses nothing.
CREATE TABLE IF NOT EXISTS conversation_states (
  key TEXT PRIMARY KEY,
  state TEXT,
  data JSONB NOT NULL DEFAULT '{}'::jsonb,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

-- Webhook update ids already handled (Telegram may deliver one twice).
CREATE TABLE IF NOT EXISTS processed_updates (
  update_id BIGINT PRIMARY KEY,
  received_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

-- 4. Indexes for every query the app makes --------------------------------------------------------

CREATE INDEX IF NOT EXISTS telegram_models_user ON telegram_models (telegram_user_id, id DESC);
CREATE INDEX IF NOT EXISTS telegram_models_awaiting_upload ON telegram_models (id)
  WHERE status = 'training' AND model_id IS NULL;
CREATE INDEX IF NOT EXISTS telegram_prompts_user ON telegram_prompts (telegram_user_id, id DESC);
CREATE INDEX IF NOT EXISTS telegram_prompts_model ON telegram_prompts (model_id, id DESC);
CREATE INDEX IF NOT EXISTS telegram_prompts_awaiting_submit ON telegram_prompts (id)
  WHERE status = 'processing' AND prompt_id IS NULL;
CREATE INDEX IF NOT EXISTS credit_ledger_user ON credit_ledger (telegram_user_id, id);
CREATE INDEX IF NOT EXISTS processed_updates_received ON processed_updates (received_at);

-- 5. Row-level security: on, with no policy for anon or authenticated ------------------------------

ALTER TABLE telegram_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE telegram_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE telegram_prompts ENABLE ROW LEVEL SECURITY;
ALTER TABLE credit_ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversation_states ENABLE ROW LEVEL SECURITY;
ALTER TABLE processed_updates ENABLE ROW LEVEL SECURITY;

-- 6. Credit functions ------------------------------------------------------------------------------

-- Ledger row + balance change, in the caller's transaction. NULL when (reason, ref) already
-- exists; a spend beyond the balance raises not_enough_credits and nothing is written.
CREATE OR REPLACE FUNCTION change_credits(
  p_telegram_id BIGINT, p_delta INTEGER, p_reason TEXT, p_ref TEXT
) RETURNS INTEGER
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_balance INTEGER;
  v_have INTEGER;
BEGIN
  INSERT INTO credit_ledger (telegram_user_id, delta, reason, ref)
  VALUES (p_telegram_id, p_delta, p_reason, p_ref)
  ON CONFLICT (reason, ref) DO NOTHING;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  UPDATE telegram_users SET credits = credits + p_delta
  WHERE telegram_id = p_telegram_id AND credits + p_delta >= 0
  RETURNING credits INTO v_balance;
  IF NOT FOUND THEN
    SELECT credits INTO v_have FROM telegram_users WHERE telegram_id = p_telegram_id;
    RAISE EXCEPTION 'not_enough_credits'
      USING ERRCODE = 'P0402',
            DETAIL = json_build_object('need', -p_delta, 'have', COALESCE(v_have, 0))::text;
  END IF;
  RETURN v_balance;
END $$;

-- Add credits once per (reason, ref); the new balance, or NULL when already granted.
CREATE OR REPLACE FUNCTION grant_credits(
  p_telegram_id BIGINT, p_amount INTEGER, p_reason TEXT, p_ref TEXT
) RETURNS INTEGER
LANGUAGE sql SET search_path = public AS $$
  SELECT change_credits(p_telegram_id, p_amount, p_reason, p_ref);
$$;

-- The user, created with the free credits on first contact, else with a refreshed profile.
CREATE OR REPLACE FUNCTION ensure_user(
  p_telegram_id BIGINT, p_username TEXT, p_first_name TEXT, p_last_name TEXT,
  p_language_code TEXT, p_free_credits INTEGER
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_user telegram_users;
  v_created BOOLEAN := FALSE;
BEGIN
  INSERT INTO telegram_users (telegram_id, username, first_name, last_name, language_code, credits)
  VALUES (p_telegram_id, p_username, p_first_name, p_last_name, p_language_code, 0)
  ON CONFLICT (telegram_id) DO NOTHING;
  IF FOUND THEN
    v_created := TRUE;
    IF p_free_credits > 0 THEN
      PERFORM change_credits(p_telegram_id, p_free_credits, 'signup', p_telegram_id::text);
    END IF;
  ELSE
    UPDATE telegram_users
    SET username = p_username, first_name = p_first_name, last_name = p_last_name,
        language_code = COALESCE(p_language_code, language_code), last_active = NOW(),
        status = 'active'
    WHERE telegram_id = p_telegram_id;
  END IF;
  SELECT * INTO v_user FROM telegram_users WHERE telegram_id = p_telegram_id;
  RETURN json_build_object('user', row_to_json(v_user), 'created', v_created);
END $$;

-- Charge and insert a training model in one transaction.
CREATE OR REPLACE FUNCTION create_model(
  p_telegram_id BIGINT, p_name TEXT, p_class_name TEXT, p_title TEXT, p_photo_file_ids JSONB,
  p_cost INTEGER
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_model telegram_models;
  v_balance INTEGER;
BEGIN
  INSERT INTO telegram_models (telegram_user_id, name, class_name, title, photo_file_ids, status)
  VALUES (p_telegram_id, p_name, p_class_name, p_title, p_photo_file_ids, 'training')
  RETURNING * INTO v_model;
  v_balance := change_credits(p_telegram_id, -p_cost, 'train', v_model.id::text);
  RETURN json_build_object('model', row_to_json(v_model), 'balance', v_balance);
END $$;

-- training -> failed, with the training charge refunded once; NULL when it was not training.
CREATE OR REPLACE FUNCTION fail_model(p_model_id INTEGER, p_error TEXT, p_refund INTEGER)
RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_model telegram_models;
  v_balance INTEGER;
BEGIN
  UPDATE telegram_models SET status = 'failed', error = p_error, updated_at = NOW()
  WHERE id = p_model_id AND status = 'training'
  RETURNING * INTO v_model;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF p_refund > 0 THEN
    v_balance := change_credits(v_model.telegram_user_id, p_refund, 'train_refund',
                                v_model.id::text);
  END IF;
  RETURN json_build_object('model', row_to_json(v_model), 'balance', v_balance);
END $$;

-- Charge and insert a processing generation in one transaction.
CREATE OR REPLACE FUNCTION create_generation(
  p_telegram_id BIGINT, p_model_id INTEGER, p_prompt TEXT, p_num_images INTEGER, p_cost INTEGER
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_generation telegram_prompts;
  v_balance INTEGER;
BEGIN
  INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, num_images, images, status)
  VALUES (p_telegram_id, p_model_id, p_prompt, p_num_images, '[]'::jsonb, 'processing')
  RETURNING * INTO v_generation;
  v_balance := change_credits(p_telegram_id, -p_cost, 'generate', v_generation.id::text);
  RETURN json_build_object('generation', row_to_json(v_generation), 'balance', v_balance);
END $$;

-- processing -> failed, with the charge refunded once; NULL when it was not processing.
CREATE OR REPLACE FUNCTION fail_generation(p_generation_id INTEGER, p_error TEXT, p_refund INTEGER)
RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_generation telegram_prompts;
  v_balance INTEGER;
BEGIN
  UPDATE telegram_prompts SET status = 'failed', error = p_error, updated_at = NOW()
  WHERE id = p_generation_id AND status = 'processing'
  RETURNING * INTO v_generation;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF p_refund > 0 THEN
    v_balance := change_credits(v_generation.telegram_user_id, p_refund, 'generate_refund',
                                v_generation.id::text);
  END IF;
  RETURN json_build_object('generation', row_to_json(v_generation), 'balance', v_balance);
END $$;

-- 7. Leases on background work ---------------------------------------------------------------------

-- Take the right to upload a model's photos to Astria: TRUE for exactly one caller until the
-- lease expires (so a crashed worker's upload is taken over later, never twice at once).
CREATE OR REPLACE FUNCTION claim_model_upload(p_model_id INTEGER, p_lease_seconds INTEGER)
RETURNS BOOLEAN
LANGUAGE sql SET search_path = public AS $$
  WITH claimed AS (
    UPDATE telegram_models SET upload_claimed_at = NOW()
    WHERE id = p_model_id AND status = 'training' AND model_id IS NULL
      AND (upload_claimed_at IS NULL
           OR upload_claimed_at <= NOW() - make_interval(secs => p_lease_seconds))
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM claimed);
$$;

-- The same for sending a generation's prompt to Astria.
CREATE OR REPLACE FUNCTION claim_generation_submit(p_generation_id INTEGER, p_lease_seconds INTEGER)
RETURNS BOOLEAN
LANGUAGE sql SET search_path = public AS $$
  WITH claimed AS (
    UPDATE telegram_prompts SET submit_claimed_at = NOW()
    WHERE id = p_generation_id AND status = 'processing' AND prompt_id IS NULL
      AND (submit_claimed_at IS NULL
           OR submit_claimed_at <= NOW() - make_interval(secs => p_lease_seconds))
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM claimed);
$$;

-- Only the server (service role) may call them; never anon or authenticated.
DO $$
DECLARE
  v_function TEXT;
  v_functions TEXT[] := ARRAY[
    'change_credits(BIGINT, INTEGER, TEXT, TEXT)',
    'grant_credits(BIGINT, INTEGER, TEXT, TEXT)',
    'ensure_user(BIGINT, TEXT, TEXT, TEXT, TEXT, INTEGER)',
    'create_model(BIGINT, TEXT, TEXT, TEXT, JSONB, INTEGER)',
    'fail_model(INTEGER, TEXT, INTEGER)',
    'create_generation(BIGINT, INTEGER, TEXT, INTEGER, INTEGER)',
    'fail_generation(INTEGER, TEXT, INTEGER)',
    'claim_model_upload(INTEGER, INTEGER)',
    'claim_generation_submit(INTEGER, INTEGER)'
  ];
BEGIN
  FOREACH v_function IN ARRAY v_functions LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
