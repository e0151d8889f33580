-- Marks: small facts about a user's work kept for a while, in a table of their own (they were
-- rows of conversation_states under the key prefixes "slow:" and "inspect:"): that a user was
-- told their work waits for Astria (once per piece of work), and what the photo check saw in a
-- chat photo until the training that charges for it reads it. They go with the user (/delete).
CREATE TABLE marks (
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  data TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  PRIMARY KEY (kind, key)
);
CREATE INDEX marks_by_age ON marks (kind, created_at);
CREATE INDEX marks_by_user ON marks (telegram_user_id);

-- the keys ended with the user's id: "slow:Model:7:4242", "inspect:<file id>:4242"
INSERT OR IGNORE INTO marks (kind, key, telegram_user_id, data, created_at)
SELECT CASE WHEN key LIKE 'slow:%' THEN 'slow_notice' ELSE 'photo_verdict' END,
       substr(key, instr(key, ':') + 1),
       CAST(substr(key, length(rtrim(key, '0123456789')) + 1) AS INTEGER),
       data, updated_at
FROM conversation_states
WHERE (key LIKE 'slow:%' OR key LIKE 'inspect:%')
  AND CAST(substr(key, length(rtrim(key, '0123456789')) + 1) AS INTEGER)
      IN (SELECT telegram_id FROM telegram_users);
DELETE FROM conversation_states WHERE key LIKE 'slow:%' OR key LIKE 'inspect:%';
