-- An album is delivered at least once: a done generation is marked when its album went out,
-- and one whose delivery was interrupted (a process killed mid-send) is sent again by the
-- sweep once its lease runs out. Albums delivered before this are marked as such.
ALTER TABLE telegram_prompts ADD COLUMN delivered_at TEXT;
ALTER TABLE telegram_prompts ADD COLUMN deliver_claimed_at TEXT;
UPDATE telegram_prompts SET delivered_at = updated_at WHERE status = 'done';
CREATE INDEX IF NOT EXISTS telegram_prompts_undelivered ON telegram_prompts (id)
  WHERE status = 'done' AND delivered_at IS NULL;
