-- Deleting a user's data on request (/delete), and the figures of /stats.

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
                                    'bot_stats(TIMESTAMP WITH TIME ZONE)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
