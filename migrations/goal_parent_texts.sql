-- What a family reads about a goal, per language: {"es": {"name": "...", "description":
-- "..."}}. The staff's own text (area, description) stays as it is; a note shows the
-- reader's language where the teacher wrote it, and the composer lists what is missing.
ALTER TABLE goal ADD COLUMN parent_texts jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(parent_texts) = 'object');
