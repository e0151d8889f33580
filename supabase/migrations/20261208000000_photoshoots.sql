-- Photoshoots (as SQLite's 0007_photoshoots.sql): an order runs an Astria pack on one ready
-- model, charged once per request key (the confirm button's message: a second tap is the same
-- order). Each prompt Astria makes for it comes back as a row of telegram_prompts with shoot_id,
-- one per Astria prompt id (a repeated callback adds nothing), delivered as every album is.
-- prompt_ids: NULL until Astria accepted the run, then the ids it named (maybe none).
-- The rows go with the user: forget_user deletes their prompts and models, and the foreign keys
-- take their photoshoots.
CREATE TABLE IF NOT EXISTS photoshoots (
  id SERIAL PRIMARY KEY,
  telegram_user_id BIGINT NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  model_id INTEGER NOT NULL REFERENCES telegram_models (id) ON DELETE CASCADE,
  pack_id BIGINT NOT NULL,
  title TEXT NOT NULL,
  class_name TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price >= 0),
  num_images INTEGER NOT NULL CHECK (num_images > 0),
  prompts INTEGER NOT NULL CHECK (prompts > 0),
  status TEXT NOT NULL DEFAULT 'processing',
  prompt_ids JSONB,
  refunded INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  message_id BIGINT,
  request_key TEXT,
  submit_claimed_at TIMESTAMP WITH TIME ZONE,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX IF NOT EXISTS photoshoots_request ON photoshoots (telegram_user_id, request_key);
CREATE INDEX IF NOT EXISTS photoshoots_working ON photoshoots (status, created_at);
ALTER TABLE photoshoots ENABLE ROW LEVEL SECURITY;

ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS shoot_id INTEGER
  REFERENCES photoshoots (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX IF NOT EXISTS telegram_prompts_of_shoot ON telegram_prompts (shoot_id, prompt_id);

-- Charge and insert a processing photoshoot in one transaction, once per request key: a repeat
-- charges nothing and gives the order made before, with today's balance (created: false).
CREATE OR REPLACE FUNCTION create_shoot(
  p_telegram_id BIGINT, p_model_id INTEGER, p_pack_id BIGINT, p_title TEXT, p_class_name TEXT,
  p_price INTEGER, p_num_images INTEGER, p_prompts INTEGER, p_request_key TEXT,
  p_message_id BIGINT
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_shoot photoshoots;
  v_balance INTEGER;
BEGIN
  INSERT INTO photoshoots (telegram_user_id, model_id, pack_id, title, class_name, price,
                           num_images, prompts, request_key, message_id)
  VALUES (p_telegram_id, p_model_id, p_pack_id, p_title, p_class_name, p_price, p_num_images,
          p_prompts, p_request_key, p_message_id)
  ON CONFLICT (telegram_user_id, request_key) DO NOTHING
  RETURNING * INTO v_shoot;
  IF NOT FOUND THEN
    SELECT * INTO STRICT v_shoot FROM photoshoots
    WHERE telegram_user_id = p_telegram_id AND request_key = p_request_key;
    SELECT credits INTO v_balance FROM telegram_users WHERE telegram_id = p_telegram_id;
    RETURN json_build_object('shoot', row_to_json(v_shoot), 'balance', v_balance,
                             'created', FALSE);
  END IF;
  v_balance := change_credits(p_telegram_id, -p_price, 'photoshoot', v_shoot.id::text);
  RETURN json_build_object('shoot', row_to_json(v_shoot), 'balance', v_balance, 'created', TRUE);
END $$;

CREATE OR REPLACE FUNCTION claim_shoot_submit(p_shoot_id INTEGER, p_lease_seconds INTEGER)
RETURNS BOOLEAN
LANGUAGE sql SET search_path = public AS $$
  WITH claimed AS (
    UPDATE photoshoots SET submit_claimed_at = NOW()
    WHERE id = p_shoot_id AND status = 'processing' AND prompt_ids IS NULL
      AND (submit_claimed_at IS NULL
           OR submit_claimed_at <= NOW() - make_interval(secs => p_lease_seconds))
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM claimed);
$$;

-- processing → done (all its prompts came back, or its deadline passed: `p_refund` is the share of
-- the price for the pictures that never came) or failed (nothing was made: all of it), the refund
-- given once with the move; NULL when the order had left `processing` before
CREATE OR REPLACE FUNCTION end_shoot(
  p_shoot_id INTEGER, p_status TEXT, p_error TEXT, p_refund INTEGER
) RETURNS JSON
LANGUAGE plpgsql SET search_path = public AS $$
DECLARE
  v_shoot photoshoots;
  v_balance INTEGER;
BEGIN
  UPDATE photoshoots SET status = p_status, error = p_error, refunded = p_refund,
                         updated_at = NOW()
  WHERE id = p_shoot_id AND status = 'processing' AND p_status IN ('done', 'failed')
  RETURNING * INTO v_shoot;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF p_refund > 0 THEN
    v_balance := change_credits(v_shoot.telegram_user_id, p_refund, 'photoshoot_refund',
                                v_shoot.id::text);
  END IF;
  RETURN json_build_object('shoot', row_to_json(v_shoot), 'balance', v_balance);
END $$;

-- Likes (as SQLite's): a user's like of one picture (a generation's image, by its place in the
-- album), once; undone by deleting the row. `topic`: a style's id, or "pack:<id>" for a
-- photoshoot's picture; `lang`: the user's language then. The catalogues are listed most-liked
-- first per language (like_counts()).
CREATE TABLE IF NOT EXISTS likes (
  telegram_user_id BIGINT NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  generation_id INTEGER NOT NULL REFERENCES telegram_prompts (id) ON DELETE CASCADE,
  image INTEGER NOT NULL CHECK (image >= 0),
  topic TEXT,
  lang TEXT NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  PRIMARY KEY (telegram_user_id, generation_id, image)
);
CREATE INDEX IF NOT EXISTS likes_by_topic ON likes (lang, topic);
CREATE INDEX IF NOT EXISTS likes_by_generation ON likes (generation_id);
ALTER TABLE likes ENABLE ROW LEVEL SECURITY;

CREATE OR REPLACE FUNCTION like_counts(p_lang TEXT)
RETURNS JSON
LANGUAGE sql STABLE SET search_path = public AS $$
  SELECT COALESCE(json_object_agg(topic, n), '{}'::json)
  FROM (SELECT topic, COUNT(*) AS n FROM likes
        WHERE lang = p_lang AND topic IS NOT NULL GROUP BY topic) counted;
$$;

-- as 20261126020000: the client roles get nothing; the server (service_role) reaches it
DO $$
DECLARE
  v_function TEXT;
BEGIN
  REVOKE ALL ON TABLE public.photoshoots, public.likes FROM PUBLIC;
  REVOKE ALL ON SEQUENCE public.photoshoots_id_seq FROM PUBLIC;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON TABLE public.photoshoots, public.likes FROM anon, authenticated;
    REVOKE ALL ON SEQUENCE public.photoshoots_id_seq FROM anon, authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.photoshoots, public.likes TO service_role;
    GRANT USAGE, SELECT ON SEQUENCE public.photoshoots_id_seq TO service_role;
  END IF;
  FOREACH v_function IN ARRAY ARRAY[
      'create_shoot(BIGINT, INTEGER, BIGINT, TEXT, TEXT, INTEGER, INTEGER, INTEGER, TEXT, BIGINT)',
      'claim_shoot_submit(INTEGER, INTEGER)',
      'end_shoot(INTEGER, TEXT, TEXT, INTEGER)',
      'like_counts(TEXT)'] LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', v_function);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON FUNCTION %s FROM anon, authenticated', v_function);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
      EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO service_role', v_function);
    END IF;
  END LOOP;
END $$;
