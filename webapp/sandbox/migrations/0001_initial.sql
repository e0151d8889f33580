-- The sandbox's tunes, prompts and queued faults (as it kept them before migrations were
-- numbered: IF NOT EXISTS leaves such a file as it is).
CREATE TABLE IF NOT EXISTS tunes (
  id INTEGER PRIMARY KEY, title TEXT UNIQUE NOT NULL, name TEXT NOT NULL, model_type TEXT,
  base_tune_id INTEGER, branch TEXT, token TEXT, callback TEXT, images INTEGER NOT NULL,
  created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT, deleted INTEGER DEFAULT 0,
  sizes TEXT
);
CREATE TABLE IF NOT EXISTS prompts (
  id INTEGER PRIMARY KEY, tune_id INTEGER NOT NULL, text TEXT NOT NULL, num_images INTEGER NOT NULL,
  callback TEXT, created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT
);
CREATE TABLE IF NOT EXISTS faults (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, method TEXT, path TEXT,
  status INTEGER, body TEXT, remaining INTEGER NOT NULL
);
