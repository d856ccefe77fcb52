-- Web Push subscriptions, the notification outbox's delivery state, and progress notes.

-- One browser's push subscription for one user. The endpoint was checked against the
-- allowed push-service hosts when stored and is checked again before every send.
CREATE TABLE push_subscription (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    user_id         bigint NOT NULL REFERENCES app_user(id),
    device_id       bigint REFERENCES device(id),
    endpoint        text NOT NULL UNIQUE CHECK (length(endpoint) BETWEEN 10 AND 1024),
    p256dh          text NOT NULL CHECK (length(p256dh) BETWEEN 80 AND 100),
    auth            text NOT NULL CHECK (length(auth) BETWEEN 16 AND 32),
    user_agent      text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz
);
CREATE INDEX push_subscription_user ON push_subscription (user_id);

-- Outbox state. A worker claims due rows (FOR UPDATE SKIP LOCKED) by setting a lease;
-- status 'sent' is written on the push service's 201. not_before defers a row for
-- quiet hours and digests; scheduled says the recipient's preferences were applied.
ALTER TABLE notification
    ADD COLUMN status        text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sent', 'dropped')),
    ADD COLUMN not_before    timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN scheduled     boolean NOT NULL DEFAULT false,
    ADD COLUMN digest        boolean NOT NULL DEFAULT false,
    ADD COLUMN attempts      integer NOT NULL DEFAULT 0,
    ADD COLUMN lease_until   timestamptz,
    ADD COLUMN leased_by     text CHECK (length(leased_by) <= 100),
    ADD COLUMN sent_at       timestamptz,
    ADD COLUMN digest_id     uuid,
    ADD COLUMN last_error    text CHECK (length(last_error) <= 500);
CREATE INDEX notification_due ON notification (not_before) WHERE status = 'queued';

-- Which subscriptions already accepted a notification (201): a retry skips them.
CREATE TABLE notification_delivery (
    notification_id uuid NOT NULL REFERENCES notification(id),
    subscription_endpoint text NOT NULL,
    delivered_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notification_id, subscription_endpoint)
);

-- A teacher-approved summary for a student's guardians. summary holds the derived
-- figures per goal (language-neutral); pages render them in the reader's language.
CREATE TABLE progress_note (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    student_id      bigint NOT NULL REFERENCES student(id),
    author_id       bigint NOT NULL REFERENCES app_user(id),
    session_ids     uuid[] NOT NULL,
    summary         jsonb NOT NULL,
    comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 4000),
    published_at    timestamptz NOT NULL DEFAULT now(),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX progress_note_student ON progress_note (student_id, published_at);
CREATE TRIGGER progress_note_txid BEFORE INSERT OR UPDATE ON progress_note FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE progress_note_read (
    note_id     bigint NOT NULL REFERENCES progress_note(id),
    user_id     bigint NOT NULL REFERENCES app_user(id),
    read_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (note_id, user_id)
);
