-- Prompts can be deleted (DELETE /tunes/:id/prompts/:id), as on Astria.
ALTER TABLE prompts ADD COLUMN deleted INTEGER DEFAULT 0;
