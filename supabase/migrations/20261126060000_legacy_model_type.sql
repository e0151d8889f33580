-- A model made before models had a type (its cost is NULL) was trained as the deployment's
-- ASTRIA_MODEL_TYPE, not as the column's default: /delete's rows say so with a NULL type, which the
-- app reads as the deployment's type. CREATE OR REPLACE keeps the grants of 20261126050000.
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
  SELECT COALESCE(json_agg(json_build_array(
           g.prompt_id, m.model_id, CASE WHEN m.cost IS NULL THEN NULL ELSE m.model_type END))
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
