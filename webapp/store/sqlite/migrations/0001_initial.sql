-- The first schema: the seed's three tables (telegram_users, telegram_models, telegram_prompts)
-- with the product's columns, the credit ledger, chat state, signup grants and processed updates.
-- IF NOT EXISTS: a database made before migrations were numbered (user_version 0) already has
-- exactly this, and is then marked as being at migration 1.
CREATE TABLE IF NOT EXISTS telegram_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_id INTEGER UNIQUE NOT NULL,
  username TEXT,
  first_name TEXT,
  last_name TEXT,
  created_at TEXT NOT NULL,
  last_active TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  language_code TEXT
);
CREATE TABLE IF NOT EXISTS telegram_models (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  model_id INTEGER,  -- Astria's tune id (NULL until Astria has answered), not our id
  created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'training',
  name TEXT NOT NULL,
  class_name TEXT NOT NULL,
  title TEXT NOT NULL UNIQUE,
  eta TEXT,
  error TEXT,
  photo_file_ids TEXT NOT NULL DEFAULT '[]',
  trained_at TEXT,
  upload_claimed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS telegram_models_user ON telegram_models (telegram_user_id, id);
CREATE INDEX IF NOT EXISTS telegram_models_pending ON telegram_models (status, model_id);
CREATE TABLE IF NOT EXISTS telegram_prompts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  model_id INTEGER NOT NULL REFERENCES telegram_models(id),  -- our model (telegram_models.id)
  prompt TEXT NOT NULL,
  prompt_id TEXT,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'processing',
  images TEXT NOT NULL DEFAULT '[]',
  num_images INTEGER NOT NULL DEFAULT 4,
  error TEXT,
  submit_claimed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS telegram_prompts_pending ON telegram_prompts (status, prompt_id);
CREATE INDEX IF NOT EXISTS telegram_prompts_user ON telegram_prompts (telegram_user_id, id);
CREATE INDEX IF NOT EXISTS telegram_prompts_model ON telegram_prompts (model_id, id);
CREATE TABLE IF NOT EXISTS credit_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  delta INTEGER NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (reason, ref)
);
CREATE INDEX IF NOT EXISTS credit_ledger_user ON credit_ledger (telegram_user_id, id);
CREATE TABLE IF NOT EXISTS conversation_states (
  key TEXT PRIMARY KEY,
  state TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signup_grants (
  key TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS processed_updates (
  update_id INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL
);
