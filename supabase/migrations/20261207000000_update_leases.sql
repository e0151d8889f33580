-- An update is claimed for a while, then done. claimed_at (renewed while it runs) and
-- claimed_by (the process handling it) make the claim a lease: when its process dies, the claim
-- runs out and Telegram's redelivery of that update is handled again. done_at: handled; a
-- redelivery is skipped and given `answer`, the webhook answer the update carried (Telegram
-- delivers an update again only when it never got the first answer). A row without claimed_by
-- was claimed the old way (before this, or by an instance not yet upgraded: the old functions
-- stay for them): handled, so done.
ALTER TABLE processed_updates ADD COLUMN IF NOT EXISTS claimed_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE processed_updates ADD COLUMN IF NOT EXISTS claimed_by TEXT;
ALTER TABLE processed_updates ADD COLUMN IF NOT EXISTS done_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE processed_updates ADD COLUMN IF NOT EXISTS answer JSONB;
UPDATE processed_updates SET claimed_at = received_at, done_at = received_at
WHERE claimed_at IS NULL;

-- What an update creates is created once per update: a generation and an order remember the
-- update that asked for them (a model has its title for that).
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS request_key TEXT;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS request_key TEXT;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'telegram_prompts_request') THEN
    ALTER TABLE telegram_prompts
      ADD CONSTRAINT telegram_prompts_request UNIQUE (telegram_user_id, request_key);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'orders_request') THEN
    ALTER TABLE orders ADD CONSTRAINT orders_request UNIQUE (telegram_user_id, request_key);
  END IF;
END $$;

-- {"claimed": true} when the update is new, or not done with its lease run out ("taken_over");
-- else {"claimed": false, "busy": true, "held_at": …, "held_by": …} while a process holds it, or
-- {"claimed": false, "answer": …} when it is done.
CREATE OR REPLACE FUNCTION claim_update(
  p_update_id BIGINT, p_holder TEXT, p_lease_seconds DOUBLE PRECISION
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_found processed_updates;
  v_taken_over BOOLEAN;
BEGIN
  INSERT INTO processed_updates (update_id, claimed_at, claimed_by)
  VALUES (p_update_id, NOW(), p_holder)
  ON CONFLICT (update_id) DO UPDATE SET claimed_at = NOW(), claimed_by = p_holder
  WHERE processed_updates.done_at IS NULL AND processed_updates.claimed_by IS NOT NULL
    AND processed_updates.claimed_at < NOW() - make_interval(secs => p_lease_seconds)
  RETURNING processed_updates.received_at < NOW() INTO v_taken_over;
  IF FOUND THEN
    RETURN json_build_object('claimed', TRUE, 'taken_over', v_taken_over);
  END IF;
  SELECT * INTO v_found FROM processed_updates WHERE update_id = p_update_id;
  IF NOT FOUND OR v_found.done_at IS NOT NULL OR v_found.claimed_by IS NULL THEN
    RETURN json_build_object('claimed', FALSE, 'answer', v_found.answer);
  END IF;
  RETURN json_build_object('claimed', FALSE, 'busy', TRUE, 'held_at', v_found.claimed_at,
                           'held_by', v_found.claimed_by);
END $$;

-- One round trip per plain update: claim the update (as above), make sure of its sender and
-- read their chat flow's state, in one function call. Not claimed: what claim_update says,
-- nothing else done. (The old begin_update, without a holder, stays for instances not yet
-- upgraded; what it claims counts as done.)
CREATE OR REPLACE FUNCTION begin_update(
  p_update_id BIGINT, p_telegram_id BIGINT, p_username TEXT, p_first_name TEXT,
  p_last_name TEXT, p_language_code TEXT, p_free_credits INTEGER, p_signup_key TEXT,
  p_state_key TEXT, p_holder TEXT, p_lease_seconds DOUBLE PRECISION
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_claim JSON;
  v_user JSON;
  v_state JSON;
BEGIN
  v_claim := claim_update(p_update_id, p_holder, p_lease_seconds);
  IF NOT (v_claim ->> 'claimed')::BOOLEAN THEN
    RETURN v_claim;
  END IF;
  v_user := ensure_user(p_telegram_id, p_username, p_first_name, p_last_name, p_language_code,
                        p_free_credits, p_signup_key);
  SELECT json_build_object('state', state, 'data', data) INTO v_state
  FROM conversation_states WHERE key = p_state_key;
  RETURN json_build_object('claimed', TRUE, 'taken_over', v_claim -> 'taken_over',
                           'user', v_user -> 'user', 'created', v_user -> 'created',
                           'conversation', v_state);
END $$;

-- The update is done, with the webhook answer it carries, and the chat states it left are
-- written, in one transaction; false (and nothing written) when p_holder no longer holds it:
-- another process took it over. p_writes: [{"key": …, "state": …, "data": …}], state and data
-- null to clear that state.
CREATE OR REPLACE FUNCTION finish_update(
  p_update_id BIGINT, p_holder TEXT, p_writes JSONB, p_answer JSONB
) RETURNS BOOLEAN
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_write JSONB;
BEGIN
  UPDATE processed_updates SET done_at = NOW(), answer = p_answer
  WHERE update_id = p_update_id AND claimed_by = p_holder AND done_at IS NULL;
  IF NOT FOUND THEN  -- done by p_holder before (a try whose answer was lost): done
    RETURN EXISTS (SELECT 1 FROM processed_updates WHERE update_id = p_update_id
                   AND claimed_by = p_holder AND done_at IS NOT NULL);
  END IF;
  FOR v_write IN SELECT * FROM jsonb_array_elements(COALESCE(p_writes, '[]'::jsonb)) LOOP
    IF jsonb_typeof(v_write -> 'state') IS DISTINCT FROM 'string'
       AND jsonb_typeof(v_write -> 'data') IS DISTINCT FROM 'object' THEN
      DELETE FROM conversation_states WHERE key = v_write ->> 'key';
    ELSE
      INSERT INTO conversation_states (key, state, data, updated_at)
      VALUES (v_write ->> 'key', v_write ->> 'state',
              COALESCE(NULLIF(v_write -> 'data', 'null'::jsonb), '{}'::jsonb), NOW())
      ON CONFLICT (key) DO UPDATE
        SET state = excluded.state, data = excluded.data, updated_at = excluded.updated_at;
    END IF;
  END LOOP;
  RETURN TRUE;
END $$;

-- Updates of p_holder that wrote nothing, marked done together (after their answers), each
-- with its answer: p_done [{"id": …, "answer": …}].
CREATE OR REPLACE FUNCTION updates_done(p_done JSONB, p_holder TEXT)
RETURNS VOID
LANGUAGE sql SET search_path = public AS $$
  UPDATE processed_updates p SET done_at = NOW(), answer = NULLIF(d -> 'answer', 'null'::jsonb)
  FROM jsonb_array_elements(p_done) d
  WHERE p.update_id = (d ->> 'id')::BIGINT AND p.claimed_by = p_holder AND p.done_at IS NULL;
$$;

-- p_holder still handles these updates: their leases start again.
CREATE OR REPLACE FUNCTION renew_updates(p_update_ids BIGINT[], p_holder TEXT)
RETURNS VOID
LANGUAGE sql SET search_path = public AS $$
  UPDATE processed_updates SET claimed_at = NOW()
  WHERE update_id = ANY (p_update_ids) AND claimed_by = p_holder AND done_at IS NULL;
$$;

-- A model is created once per title (the update that asked for it makes its title): a repeat
-- charges nothing and gives the model made before, with today's balance.
CREATE OR REPLACE FUNCTION create_model(
  p_telegram_id BIGINT, p_name TEXT, p_class_name TEXT, p_title TEXT, p_photo_file_ids JSONB,
  p_cost INTEGER, p_model_type TEXT, p_characteristics JSONB
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_model telegram_models;
  v_balance INTEGER;
BEGIN
  -- made before, or being made right now by another process (the insert waits for it)
  INSERT INTO telegram_models (telegram_user_id, name, class_name, title, photo_file_ids, status,
                               model_type, cost, characteristics)
  VALUES (p_telegram_id, p_name, p_class_name, p_title, p_photo_file_ids, 'training',
          p_model_type, p_cost, p_characteristics)
  ON CONFLICT (title) DO NOTHING
  RETURNING * INTO v_model;
  IF NOT FOUND THEN
    SELECT * INTO STRICT v_model FROM telegram_models
    WHERE title = p_title AND telegram_user_id = p_telegram_id;
    SELECT credits INTO v_balance FROM telegram_users WHERE telegram_id = p_telegram_id;
    RETURN json_build_object('model', row_to_json(v_model), 'balance', v_balance);
  END IF;
  v_balance := change_credits(p_telegram_id, -p_cost, 'train', v_model.id::text);
  RETURN json_build_object('model', row_to_json(v_model), 'balance', v_balance);
END $$;

-- A generation is created once per request key (the update that asked for it): a repeat
-- charges nothing and gives the generation made before, with today's balance. (The old
-- create_generation, without a key, stays for instances not yet upgraded.)
CREATE OR REPLACE FUNCTION create_generation(
  p_telegram_id BIGINT, p_model_id INTEGER, p_prompt TEXT, p_num_images INTEGER, p_cost INTEGER,
  p_style TEXT, p_hd BOOLEAN, p_request_key TEXT
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_generation telegram_prompts;
  v_balance INTEGER;
BEGIN
  -- made before, or being made right now by another process (the insert waits for it)
  INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, num_images, images, status,
                                style, hd, cost, request_key)
  VALUES (p_telegram_id, p_model_id, p_prompt, p_num_images, '[]'::jsonb, 'processing',
          p_style, p_hd, p_cost, p_request_key)
  ON CONFLICT (telegram_user_id, request_key) DO NOTHING
  RETURNING * INTO v_generation;
  IF NOT FOUND THEN
    SELECT * INTO STRICT v_generation FROM telegram_prompts
    WHERE telegram_user_id = p_telegram_id AND request_key = p_request_key;
    SELECT credits INTO v_balance FROM telegram_users WHERE telegram_id = p_telegram_id;
    RETURN json_build_object('generation', row_to_json(v_generation), 'balance', v_balance);
  END IF;
  v_balance := change_credits(p_telegram_id, -p_cost, 'generate', v_generation.id::text);
  RETURN json_build_object('generation', row_to_json(v_generation), 'balance', v_balance);
END $$;

DO $$
DECLARE
  v_function TEXT;
BEGIN
  FOREACH v_function IN ARRAY ARRAY[
      'claim_update(BIGINT, TEXT, DOUBLE PRECISION)',
      'begin_update(BIGINT, BIGINT, TEXT, TEXT, TEXT, TEXT, INTEGER, TEXT, TEXT, TEXT, DOUBLE PRECISION)',
      'finish_update(BIGINT, TEXT, JSONB, JSONB)',
      'updates_done(JSONB, TEXT)',
      'renew_updates(BIGINT[], TEXT)',
      'create_model(BIGINT, TEXT, TEXT, TEXT, JSONB, INTEGER, TEXT, JSONB)',
      'create_generation(BIGINT, INTEGER, TEXT, INTEGER, INTEGER, TEXT, BOOLEAN, TEXT)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
