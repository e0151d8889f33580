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

DO $$
DECLARE
  v_function TEXT;
BEGIN
  FOREACH v_function IN ARRAY ARRAY[
      'create_model(BIGINT, TEXT, TEXT, TEXT, JSONB, INTEGER, TEXT, JSONB)',
      'create_generation(BIGINT, INTEGER, TEXT, INTEGER, INTEGER, TEXT, BOOLEAN)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
