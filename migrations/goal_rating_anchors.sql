-- What each value of a rating goal's scale means ("0 = not yet", …, "4 = on their own"),
-- shown under the rating buttons on the aide's phone. Optional: an empty list, and the
-- app shows default anchors for the scale's ends. Given, it has one label per value
-- (0 … rating_max); a label may be blank.
ALTER TABLE goal ADD COLUMN rating_anchors jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE goal ADD CONSTRAINT goal_rating_anchors_shape CHECK (
    jsonb_typeof(rating_anchors) = 'array'
    AND (jsonb_array_length(rating_anchors) = 0
         OR (rating_max IS NOT NULL AND jsonb_array_length(rating_anchors) = rating_max + 1))
);
