-- /delete: every row of a user deleted in one transaction, returning what Astria may still hold
-- of theirs, so the app deletes it there afterwards. Reading the tune ids as the rows are
-- deleted closes a race: a training whose upload reaches Astria while the user deletes their
-- data either left its tune id in the row (returned here) or finds no row (and its job deletes
-- the tune). delete_user_data() stays for an app version still running during a deploy.
CREATE OR REPLACE FUNCTION forget_user(p_telegram_id BIGINT)
RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_prompts JSON;
  v_models INTEGER;
  v_tunes JSON;
BEGIN
  -- the models are still there for this statement's join: it sees the table as it began
  WITH gone AS (
    DELETE FROM telegram_prompts WHERE telegram_user_id = p_telegram_id
    RETURNING prompt_id, model_id
  )
  SELECT COALESCE(json_agg(json_build_array(g.prompt_id, m.model_id))
                    FILTER (WHERE g.prompt_id IS NOT NULL), '[]'::json)
  INTO v_prompts
  FROM gone g LEFT JOIN telegram_models m ON m.id = g.model_id;
  WITH gone AS (
    DELETE FROM telegram_models WHERE telegram_user_id = p_telegram_id RETURNING model_id
  )
  SELECT COUNT(*), COALESCE(json_agg(model_id) FILTER (WHERE model_id IS NOT NULL), '[]'::json)
  INTO v_models, v_tunes
  FROM gone;
  DELETE FROM credit_ledger WHERE telegram_user_id = p_telegram_id;
  DELETE FROM conversation_states WHERE key LIKE '%:' || p_telegram_id::text;
  DELETE FROM telegram_users WHERE telegram_id = p_telegram_id;
  RETURN json_build_object('models', v_models, 'tunes', v_tunes, 'prompts', v_prompts);
END $$;

-- Only the server (service role) may call it; never anon or authenticated.
REVOKE ALL ON FUNCTION forget_user(BIGINT) FROM PUBLIC;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON FUNCTION forget_user(BIGINT) FROM anon, authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT EXECUTE ON FUNCTION forget_user(BIGINT) TO service_role;
  END IF;
END $$;
