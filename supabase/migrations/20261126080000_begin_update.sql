-- One round trip per plain update: claim the update id, make sure of its sender and read their
-- chat flow's state, in one function call. {"claimed": false} for a redelivered update
-- (nothing else done); else the user (as ensure_user gives it) and the state row, or null.
CREATE OR REPLACE FUNCTION begin_update(
  p_update_id BIGINT, p_telegram_id BIGINT, p_username TEXT, p_first_name TEXT,
  p_last_name TEXT, p_language_code TEXT, p_free_credits INTEGER, p_signup_key TEXT,
  p_state_key TEXT
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_user JSON;
  v_state JSON;
BEGIN
  INSERT INTO processed_updates (update_id) VALUES (p_update_id) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN
    RETURN json_build_object('claimed', FALSE);
  END IF;
  v_user := ensure_user(p_telegram_id, p_username, p_first_name, p_last_name, p_language_code,
                        p_free_credits, p_signup_key);
  SELECT json_build_object('state', state, 'data', data) INTO v_state
  FROM conversation_states WHERE key = p_state_key;
  RETURN json_build_object('claimed', TRUE, 'user', v_user -> 'user',
                           'created', v_user -> 'created', 'conversation', v_state);
END $$;

DO $$
DECLARE
  v_function TEXT := 'begin_update(BIGINT, BIGINT, TEXT, TEXT, TEXT, TEXT, INTEGER, TEXT, TEXT)';
BEGIN
  EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
  END IF;
END $$;
