-- A guardian invited for a student before they had an account (a roster import, say)
-- keeps the relationship named in the invitation ("grandmother"); accepting it creates
-- the guardianship with it instead of the default 'guardian'.
ALTER TABLE account_link
    ADD COLUMN relationship text CHECK (length(relationship) BETWEEN 1 AND 40);
