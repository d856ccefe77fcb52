-- Account notices: what happened to a person's account that they must hear about from
-- the app itself (a password link made for them, their password changed by a link).
-- app_user.notice_pending is read with every session lookup (one column, no extra query),
-- so every page can show "news about your account" until the person has seen it.
CREATE TABLE account_notice (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES app_user (id),
    school_id   bigint NOT NULL REFERENCES school (id),
    kind        text NOT NULL CHECK (kind IN ('reset_link_made', 'password_reset')),
    actor_id    bigint REFERENCES app_user (id),
    at          timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz
);
CREATE INDEX account_notice_user ON account_notice (user_id, at DESC);

ALTER TABLE app_user ADD COLUMN notice_pending boolean NOT NULL DEFAULT false;
