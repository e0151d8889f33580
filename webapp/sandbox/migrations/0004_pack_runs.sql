-- A pack run (POST /p/:id/tunes) by its title, Astria's idempotency key: the same title again
-- answers with the same prompts and makes none.
CREATE TABLE pack_runs (
  title TEXT PRIMARY KEY,
  pack_id INTEGER NOT NULL,
  prompt_ids TEXT NOT NULL
);
