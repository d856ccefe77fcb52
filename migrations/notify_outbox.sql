-- The notification outbox: one row per recipient per event, written in the same
-- transaction as the note or message that causes it. Title and text are composed at
-- send time in the recipient's language, so no record content is stored here.
CREATE TABLE notification (
    id          uuid PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    user_id     bigint NOT NULL REFERENCES app_user(id),
    student_id  bigint REFERENCES student(id),
    kind        text NOT NULL CHECK (kind IN ('progress_note', 'message', 'digest')),
    ref_id      text NOT NULL CHECK (length(ref_id) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, kind, ref_id)
);
CREATE INDEX notification_user ON notification (user_id, created_at);
