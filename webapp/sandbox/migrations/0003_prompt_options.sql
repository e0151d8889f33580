-- A prompt's options as sent (aspect_ratio, super_resolution, …), kept for tests to read.
ALTER TABLE prompts ADD COLUMN options TEXT DEFAULT '{}';
