-- Marks: small facts about a user's work kept for a while, in a table of their own (they were
-- rows of conversation_states under the key prefixes "slow:" and "inspect:"): that a user was
-- told their work waits for Astria (once per piece of work), and what the photo check saw in a
-- chat photo until the training that charges for it reads it. They go with the user: forget_user
-- deletes the user's row, and the foreign key takes their marks.
CREATE TABLE IF NOT EXISTS marks (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  telegram_user_id BIGINT NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  data JSONB NOT NULL DEFAULT '{}'::jsonb,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
  PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS marks_by_age ON marks (kind, created_at);
CREATE INDEX IF NOT EXISTS marks_by_user ON marks (telegram_user_id);
ALTER TABLE marks ENABLE ROW LEVEL SECURITY;

-- the keys ended with the user's id: "slow:Model:7:4242", "inspect:<file id>:4242"
INSERT INTO marks (kind, key, telegram_user_id, data, created_at)
SELECT CASE WHEN s.key LIKE 'slow:%' THEN 'slow_notice' ELSE 'photo_verdict' END,
       substr(s.key, strpos(s.key, ':') + 1),
       u.telegram_id, s.data, s.updated_at
FROM conversation_states s
JOIN telegram_users u ON u.telegram_id::text = substring(s.key from '[0-9]+$')
WHERE s.key LIKE 'slow:%' OR s.key LIKE 'inspect:%'
ON CONFLICT (kind, key) DO NOTHING;
DELETE FROM conversation_states WHERE key LIKE 'slow:%' OR key LIKE 'inspect:%';

-- as 20261126020000: the client roles get nothing; the server (service_role) reaches it
DO $$
BEGIN
  REVOKE ALL ON TABLE public.marks FROM PUBLIC;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    REVOKE ALL ON TABLE public.marks FROM anon, authenticated;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.marks TO service_role;
  END IF;
END $$;
