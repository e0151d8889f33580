-- Likes of prompts (POST /prompts/:id/likes): one row per like, as Astria counts them.
CREATE TABLE likes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  prompt_id INTEGER NOT NULL,
  created_at REAL NOT NULL
);
CREATE INDEX likes_by_prompt ON likes (prompt_id);
