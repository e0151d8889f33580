-- Styles and model types: a model says which kind it is (a Flux LoRA or an instant FaceID),
-- what it cost and what the photo check saw in its photos; a generation says which catalogue style and HD it asked for and what it cost,
-- so a refund gives back exactly what was charged. Rows made before keep the defaults they had.
ALTER TABLE telegram_models ADD COLUMN model_type TEXT NOT NULL DEFAULT 'lora';
ALTER TABLE telegram_models ADD COLUMN cost INTEGER;  -- NULL: made before, at TRAIN_COST
-- what Astria's /images/inspect saw most in the photos (JSON), sent with the tune
ALTER TABLE telegram_models ADD COLUMN characteristics TEXT;
ALTER TABLE telegram_prompts ADD COLUMN style TEXT;  -- a style id of the catalogue, or NULL
ALTER TABLE telegram_prompts ADD COLUMN hd INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telegram_prompts ADD COLUMN cost INTEGER;  -- NULL: made before, at GENERATE_COST
