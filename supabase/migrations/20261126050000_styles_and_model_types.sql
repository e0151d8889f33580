-- Styles and model types: a model says which kind it is (a Flux LoRA or an instant FaceID),
-- what it cost and what the photo check saw in its photos; a generation says which catalogue style and HD it asked for and what it cost,
-- so a refund gives back exactly what was charged. create_model() and create_generation() take
-- the new fields (dropped and made again: their arguments change), with the same grants.
ALTER TABLE telegram_models ADD COLUMN IF NOT EXISTS model_type TEXT NOT NULL DEFAULT 'lora';
ALTER TABLE telegram_models ADD COLUMN IF NOT EXISTS cost INTEGER;
ALTER TABLE telegram_models ADD COLUMN IF NOT EXISTS characteristics JSONB;
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS style TEXT;
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS hd BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS cost INTEGER;

DROP FUNCTION IF EXISTS create_model(BIGINT, TEXT, TEXT, TEXT, JSONB, INTEGER);
CREATE OR REPLACE FUNCTION create_model(
  p_telegram_id BIGINT, p_name TEXT, p_class_name TEXT, p_title TEXT, p_photo_file_ids JSONB,
  p_cost INTEGER, p_model_type TEXT, p_characteristics JSONB
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_model telegram_models;
  v_balance INTEGER;
BEGIN
  INSERT INTO telegram_models (telegram_user_id, name, class_name, title, photo_file_ids, status,
                               model_type, cost, characteristics)
  VALUES (p_telegram_id, p_name, p_class_name, p_title, p_photo_file_ids, 'training',
          p_model_type, p_cost, p_characteristics)
  RETURNING * INTO v_model;
  v_balance := change_credits(p_telegram_id, -p_cost, 'train', v_model.id::text);
  RETURN json_build_object('model', row_to_json(v_model), 'balance', v_balance);
END $$;

DROP FUNCTION IF EXISTS create_generation(BIGINT, INTEGER, TEXT, INTEGER, INTEGER);
CREATE OR REPLACE FUNCTION create_generation(
  p_telegram_id BIGINT, p_model_id INTEGER, p_prompt TEXT, p_num_images INTEGER, p_cost INTEGER,
  p_style TEXT, p_hd BOOLEAN
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_generation telegram_prompts;
  v_balance INTEGER;
BEGIN
  INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, num_images, images, status,
                                style, hd, cost)
  VALUES (p_telegram_id, p_model_id, p_prompt, p_num_images, '[]'::jsonb, 'processing',
          p_style, p_hd, p_cost)
  RETURNING * INTO v_generation;
  v_balance := change_credits(p_telegram_id, -p_cost, 'generate', v_generation.id::text);
  RETURN json_build_object('generation', row_to_json(v_generation), 'balance', v_balance);
END $$;

-- /delete's rows now say where each prompt lives: the type of its model goes with its tune id.
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
  SELECT COALESCE(json_agg(json_build_array(g.prompt_id, m.model_id, m.model_type))
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

DO $$
DECLARE
  v_function TEXT;
BEGIN
  FOREACH v_function IN ARRAY ARRAY[
      'create_model(BIGINT, TEXT, TEXT, TEXT, JSONB, INTEGER, TEXT, JSONB)',
      'create_generation(BIGINT, INTEGER, TEXT, INTEGER, INTEGER, TEXT, BOOLEAN)',
      'forget_user(BIGINT)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
