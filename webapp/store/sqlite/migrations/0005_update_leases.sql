-- An update is claimed for a while (claimed_at, renewed while it runs, and claimed_by: the
-- process handling it), then done (done_at, with the webhook answer it carried: the answer to
-- a redelivery too). A claim whose process died runs out, and Telegram's redelivery of that
-- update is handled again. A row without claimed_by was claimed the old way: handled, so done.
ALTER TABLE processed_updates ADD COLUMN claimed_at TEXT;
ALTER TABLE processed_updates ADD COLUMN claimed_by TEXT;
ALTER TABLE processed_updates ADD COLUMN done_at TEXT;
ALTER TABLE processed_updates ADD COLUMN answer TEXT;
UPDATE processed_updates SET claimed_at = received_at, done_at = received_at;

-- What an update creates is created once per update: a generation and an order remember the
-- update that asked for them (a model has its title for that).
ALTER TABLE telegram_prompts ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX telegram_prompts_request ON telegram_prompts (telegram_user_id, request_key);
ALTER TABLE orders ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX orders_request ON orders (telegram_user_id, request_key);
