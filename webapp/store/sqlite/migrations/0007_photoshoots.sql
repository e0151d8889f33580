-- Photoshoots: an order runs an Astria pack on one ready model, charged once (its request key:
-- the confirm button's message, so a second tap is the same order). Each prompt Astria makes for
-- it comes back as a row of telegram_prompts with shoot_id (one per Astria prompt id: a repeated
-- callback adds nothing), delivered as every album is. prompt_ids: NULL until Astria accepted the
-- run (the submit lease's "sent" column), then the ids it named (a JSON array, maybe empty).
CREATE TABLE photoshoots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  model_id INTEGER NOT NULL REFERENCES telegram_models (id) ON DELETE CASCADE,
  pack_id INTEGER NOT NULL,
  title TEXT NOT NULL,
  class_name TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price >= 0),
  num_images INTEGER NOT NULL CHECK (num_images > 0),
  prompts INTEGER NOT NULL CHECK (prompts > 0),
  status TEXT NOT NULL DEFAULT 'processing',
  prompt_ids TEXT,
  refunded INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  message_id INTEGER,
  request_key TEXT,
  submit_claimed_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX photoshoots_request ON photoshoots (telegram_user_id, request_key);
CREATE INDEX photoshoots_working ON photoshoots (status, created_at);

ALTER TABLE telegram_prompts ADD COLUMN shoot_id INTEGER REFERENCES photoshoots (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX telegram_prompts_of_shoot ON telegram_prompts (shoot_id, prompt_id);

-- Likes: a user's like of one picture (a generation's image, by its place in the album), once;
-- undone by deleting the row. `topic` is what the picture was made with (a style's id, or
-- "pack:<id>" for a photoshoot's) and `lang` the user's language then: the catalogues are
-- listed most-liked first per language.
CREATE TABLE likes (
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users (telegram_id) ON DELETE CASCADE,
  generation_id INTEGER NOT NULL REFERENCES telegram_prompts (id) ON DELETE CASCADE,
  image INTEGER NOT NULL CHECK (image >= 0),
  topic TEXT,
  lang TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (telegram_user_id, generation_id, image)
);
CREATE INDEX likes_by_topic ON likes (lang, topic);
CREATE INDEX likes_by_generation ON likes (generation_id);
