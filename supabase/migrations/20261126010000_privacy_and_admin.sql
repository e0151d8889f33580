-- Deleting a user's data on request (/delete), and the figures of /stats.

-- Signup bonuses already given, by a keyed hash of the Telegram id (no personal data): kept
-- after /delete, so deleting one's data and coming back does not earn the free credits again.
CREATE TABLE IF NOT EXISTS signup_grants (
  key TEXT PRIMARY KEY,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
ALTER TABLE signup_grants ENABLE ROW LEVEL SECURITY;

DROP FUNCTION IF EXISTS ensure_user(BIGINT, TEXT, TEXT, TEXT, TEXT, INTEGER);
CREATE OR REPLACE FUNCTION ensure_user(
  p_telegram_id BIGINT, p_username TEXT, p_first_name TEXT, p_last_name TEXT,
  p_language_code TEXT, p_free_credits INTEGER, p_signup_key TEXT
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
    INSERT INTO signup_grants (key) VALUES (p_signup_key) ON CONFLICT (key) DO NOTHING;
    IF FOUND AND p_free_credits > 0 THEN
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

-- Every row that belongs to one Telegram user, in one transaction (their Astria tunes are
-- deleted by the app first). Returns the number of models deleted.
CREATE OR REPLACE FUNCTION delete_user_data(p_telegram_id BIGINT)
RETURNS INTEGER
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_models INTEGER;
BEGIN
  DELETE FROM telegram_prompts WHERE telegram_user_id = p_telegram_id;
  DELETE FROM telegram_models WHERE telegram_user_id = p_telegram_id;
  GET DIAGNOSTICS v_models = ROW_COUNT;
  DELETE FROM credit_ledger WHERE telegram_user_id = p_telegram_id;
  DELETE FROM conversation_states WHERE key LIKE '%:' || p_telegram_id::text;
  DELETE FROM telegram_users WHERE telegram_id = p_telegram_id;
  RETURN v_models;
END $$;

-- Users, models and generations, and credits spent (net of refunds) since a moment.
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
                      AND reason IN ('train', 'generate', 'train_refund', 'generate_refund'))
  );
$$;

DO $$
DECLARE
  v_function TEXT;
BEGIN
  FOREACH v_function IN ARRAY ARRAY['delete_user_data(BIGINT)',
                                    'bot_stats(TIMESTAMP WITH TIME ZONE)',
                                    'ensure_user(BIGINT, TEXT, TEXT, TEXT, TEXT, INTEGER, TEXT)']
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
