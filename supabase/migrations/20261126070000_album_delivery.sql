-- An album is delivered at least once: a done generation is marked when its album went out,
-- and one whose delivery was interrupted (a process killed mid-send) is sent again by the
-- sweep once its lease runs out. Albums delivered before this are marked as such.
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS delivered_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE telegram_prompts ADD COLUMN IF NOT EXISTS deliver_claimed_at TIMESTAMP WITH TIME ZONE;
UPDATE telegram_prompts SET delivered_at = COALESCE(updated_at, created_at)
  WHERE status = 'done' AND delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS telegram_prompts_undelivered ON telegram_prompts (id)
  WHERE status = 'done' AND delivered_at IS NULL;

-- Take the right to send a done generation's album: TRUE for one caller until the lease runs out.
CREATE OR REPLACE FUNCTION claim_delivery(p_generation_id INTEGER, p_lease_seconds INTEGER)
RETURNS BOOLEAN
LANGUAGE sql SET search_path = public AS $$
  WITH claimed AS (
    UPDATE telegram_prompts SET deliver_claimed_at = NOW()
    WHERE id = p_generation_id AND status = 'done' AND delivered_at IS NULL
      AND (deliver_claimed_at IS NULL
           OR deliver_claimed_at <= NOW() - make_interval(secs => p_lease_seconds))
    RETURNING 1
  )
  SELECT EXISTS (SELECT 1 FROM claimed);
$$;

DO $$
BEGIN
  REVOKE ALL ON FUNCTION claim_delivery(INTEGER, INTEGER) FROM PUBLIC;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON FUNCTION claim_delivery(INTEGER, INTEGER) FROM anon, authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT EXECUTE ON FUNCTION claim_delivery(INTEGER, INTEGER) TO service_role;
  END IF;
END $$;
