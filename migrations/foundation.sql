-- Tandem foundation schema. Applied by migrations/tandem_2026_11_28t20_00_00_000000.py.
-- Every school-owned row carries school_id. Syncable rows carry txid (xid8), stamped by
-- trigger on insert and update: the pull cursor is built on it (see docs/sync-protocol.md).

CREATE FUNCTION tandem_stamp_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id();
    RETURN NEW;
END $$;

CREATE FUNCTION tandem_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE school (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    timezone    text NOT NULL DEFAULT 'America/New_York' CHECK (length(timezone) <= 64),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_user (
    id              bigserial PRIMARY KEY,
    email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash   text,
    timezone        text NOT NULL DEFAULT 'America/New_York' CHECK (length(timezone) <= 64),
    language        text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es')),
    notify_mode     text NOT NULL DEFAULT 'immediate' CHECK (notify_mode IN ('immediate', 'daily', 'weekly')),
    quiet_start     time,
    quiet_end       time,
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX app_user_email_key ON app_user (lower(email));

-- A user's role in one school. Changing it ends the user's sessions (service layer).
CREATE TABLE membership (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    user_id     bigint NOT NULL REFERENCES app_user(id),
    role        text NOT NULL CHECK (role IN ('admin', 'teacher', 'provider', 'aide', 'parent')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, user_id)
);

CREATE TABLE student (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    first_name      text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name       text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    date_of_birth   date,
    grade           text NOT NULL DEFAULT '' CHECK (length(grade) <= 20),
    external_id     text CHECK (length(external_id) <= 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE UNIQUE INDEX student_external_id_key ON student (school_id, external_id) WHERE external_id IS NOT NULL;
CREATE TRIGGER student_txid BEFORE INSERT OR UPDATE ON student FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- Links keep their history: [starts_at, ends_at). "Was this aide assigned at 10:14 on
-- Tuesday?" is: starts_at <= t AND (ends_at IS NULL OR t < ends_at).
CREATE TABLE caseload_link (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    teacher_id  bigint NOT NULL REFERENCES app_user(id),
    student_id  bigint NOT NULL REFERENCES student(id),
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX caseload_link_teacher ON caseload_link (teacher_id, student_id);
CREATE TRIGGER caseload_link_txid BEFORE INSERT OR UPDATE ON caseload_link FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE assignment (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    aide_id     bigint NOT NULL REFERENCES app_user(id),
    student_id  bigint NOT NULL REFERENCES student(id),
    starts_at   timestamptz NOT NULL DEFAULT now(),
    ends_at     timestamptz,
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK (ends_at IS NULL OR ends_at >= starts_at)
);
CREATE INDEX assignment_aide ON assignment (aide_id, student_id);
CREATE TRIGGER assignment_txid BEFORE INSERT OR UPDATE ON assignment FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE guardianship (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    parent_id       bigint NOT NULL REFERENCES app_user(id),
    student_id      bigint NOT NULL REFERENCES student(id),
    relationship    text NOT NULL DEFAULT 'guardian' CHECK (length(relationship) <= 40),
    starts_at       timestamptz NOT NULL DEFAULT now(),
    ends_at         timestamptz,
    revoked         boolean NOT NULL DEFAULT false,
    revoked_at      timestamptz,
    revoked_reason  text CHECK (length(revoked_reason) <= 500),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX guardianship_parent ON guardianship (parent_id, student_id);
CREATE TRIGGER guardianship_txid BEFORE INSERT OR UPDATE ON guardianship FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- An installed app instance (browser profile) of one user. Revoking it ends its
-- sessions and refuses its sync clients.
CREATE TABLE device (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    user_id         bigint NOT NULL REFERENCES app_user(id),
    token_hash      bytea NOT NULL UNIQUE,
    label           text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by      bigint REFERENCES app_user(id)
);
CREATE INDEX device_user ON device (user_id);

CREATE TABLE auth_session (
    id_hash         bytea PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES app_user(id),
    school_id       bigint NOT NULL REFERENCES school(id),
    role            text NOT NULL,
    device_id       bigint REFERENCES device(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);
CREATE INDEX auth_session_user ON auth_session (user_id);
CREATE INDEX auth_session_device ON auth_session (device_id);

-- Fixed-window counters shared by every app process (login limits).
CREATE TABLE rate_limit (
    key             text PRIMARY KEY,
    window_start    timestamptz NOT NULL,
    hits            integer NOT NULL
);

-- Single-use links: invitations and password resets. Only the token's hash is stored.
CREATE TABLE account_link (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    kind            text NOT NULL CHECK (kind IN ('invite', 'reset')),
    token_hash      bytea NOT NULL UNIQUE,
    email           text NOT NULL CHECK (length(email) <= 254),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role            text NOT NULL CHECK (role IN ('admin', 'teacher', 'provider', 'aide', 'parent')),
    student_id      bigint REFERENCES student(id),
    user_id         bigint REFERENCES app_user(id),
    created_by      bigint NOT NULL REFERENCES app_user(id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz
);

-- Secrets shared by every process (VAPID keys, signing keys), created on first start.
CREATE TABLE app_secret (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE iep (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    student_id  bigint NOT NULL REFERENCES student(id),
    start_date  date NOT NULL,
    end_date    date NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'closed')),
    revision    integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
    created_by  bigint REFERENCES app_user(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK (end_date >= start_date)
);
CREATE INDEX iep_student ON iep (student_id);
CREATE TRIGGER iep_txid BEFORE INSERT OR UPDATE ON iep FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE goal (
    id                  bigserial PRIMARY KEY,
    school_id           bigint NOT NULL REFERENCES school(id),
    iep_id              bigint NOT NULL REFERENCES iep(id),
    student_id          bigint NOT NULL REFERENCES student(id),
    area                text NOT NULL CHECK (length(area) BETWEEN 1 AND 80),
    description         text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    measurement         text NOT NULL CHECK (measurement IN ('trials', 'frequency', 'duration', 'rating', 'task_analysis')),
    baseline            text NOT NULL DEFAULT '' CHECK (length(baseline) <= 500),
    target              text NOT NULL DEFAULT '' CHECK (length(target) <= 500),
    mastery_criterion   text NOT NULL DEFAULT '' CHECK (length(mastery_criterion) <= 500),
    rating_max          integer CHECK (rating_max BETWEEN 2 AND 10),
    task_steps          jsonb NOT NULL DEFAULT '[]'::jsonb,
    home_practice       boolean NOT NULL DEFAULT false,
    active              boolean NOT NULL DEFAULT true,
    position            integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    txid                xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX goal_iep ON goal (iep_id);
CREATE INDEX goal_student ON goal (student_id);
CREATE TRIGGER goal_txid BEFORE INSERT OR UPDATE ON goal FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE objective (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    goal_id     bigint NOT NULL REFERENCES goal(id),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    position    integer NOT NULL DEFAULT 0
);

CREATE TABLE accommodation (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    iep_id      bigint NOT NULL REFERENCES iep(id),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 1000),
    setting     text NOT NULL DEFAULT '' CHECK (length(setting) <= 200)
);

CREATE TABLE service (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    iep_id          bigint NOT NULL REFERENCES iep(id),
    student_id      bigint NOT NULL REFERENCES student(id),
    service_type    text NOT NULL CHECK (length(service_type) BETWEEN 1 AND 80),
    minutes         integer NOT NULL CHECK (minutes BETWEEN 1 AND 10000),
    period          text NOT NULL CHECK (period IN ('week', 'month')),
    provider_id     bigint REFERENCES app_user(id),
    setting         text NOT NULL DEFAULT '' CHECK (length(setting) <= 200),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX service_provider ON service (provider_id);
CREATE TRIGGER service_txid BEFORE INSERT OR UPDATE ON service FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- Sync: a registered client (one app instance, one user). last_seq moves forward in
-- the same transaction as the effects of the ops it counts.
CREATE TABLE sync_client (
    client_id   uuid PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    user_id     bigint NOT NULL REFERENCES app_user(id),
    device_id   bigint REFERENCES device(id),
    last_seq    bigint NOT NULL DEFAULT 0,
    app_version text NOT NULL DEFAULT '' CHECK (length(app_version) <= 40),
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_sync_at timestamptz
);

-- One row per op ever processed: the exactly-once ledger.
CREATE TABLE sync_op (
    client_id   uuid NOT NULL REFERENCES sync_client(client_id),
    seq         bigint NOT NULL,
    op_id       uuid NOT NULL UNIQUE,
    school_id   bigint NOT NULL,
    user_id     bigint NOT NULL,
    op_type     text NOT NULL,
    body_hash   bytea NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('applied', 'rejected', 'correction')),
    code        text,
    reason      text,
    device_time timestamptz,
    recorded_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, seq)
);

-- One sitting of one staff member with one student. The id is made by the client.
CREATE TABLE data_session (
    id              uuid PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    student_id      bigint NOT NULL REFERENCES student(id),
    staff_id        bigint NOT NULL REFERENCES app_user(id),
    service_id      bigint REFERENCES service(id),
    device_id       bigint REFERENCES device(id),
    client_id       uuid,
    opened_at       timestamptz NOT NULL,
    closed_at       timestamptz,
    captured_offline boolean NOT NULL DEFAULT false,
    first_synced_at timestamptz NOT NULL DEFAULT now(),
    review_status   text NOT NULL DEFAULT 'open' CHECK (review_status IN ('open', 'pending', 'approved', 'rejected')),
    reviewed_by     bigint REFERENCES app_user(id),
    reviewed_at     timestamptz,
    review_reason   text CHECK (length(review_reason) <= 1000),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX data_session_student ON data_session (student_id, opened_at);
CREATE INDEX data_session_review ON data_session (school_id, review_status);
CREATE TRIGGER data_session_txid BEFORE INSERT OR UPDATE ON data_session FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- An immutable event (one tap). Totals are always derived. Undo is an 'undo' event
-- whose voids_op_id names the voided op; a teacher's correction supersedes an event
-- with a reason. state='proposed' is a late edit to approved data awaiting review.
CREATE TABLE observation (
    id              bigserial PRIMARY KEY,
    op_id           uuid NOT NULL UNIQUE,
    school_id       bigint NOT NULL REFERENCES school(id),
    student_id      bigint NOT NULL REFERENCES student(id),
    session_id      uuid NOT NULL REFERENCES data_session(id),
    goal_id         bigint REFERENCES goal(id),
    user_id         bigint NOT NULL REFERENCES app_user(id),
    client_id       uuid,
    kind            text NOT NULL CHECK (kind IN ('trial', 'tally', 'timer_start', 'timer_stop', 'rating', 'step', 'note', 'undo', 'correction')),
    outcome         text CHECK (outcome IN ('correct', 'incorrect', 'no_response')),
    prompt          text CHECK (prompt IN ('independent', 'gestural', 'verbal', 'model', 'partial_physical', 'full_physical')),
    delta           smallint CHECK (delta IN (-1, 1)),
    timer_id        uuid,
    value           integer CHECK (value BETWEEN 0 AND 100),
    step_index      smallint CHECK (step_index BETWEEN 0 AND 99),
    note            text CHECK (length(note) <= 4000),
    voids_op_id     uuid,
    supersedes_id   bigint REFERENCES observation(id),
    reason          text CHECK (length(reason) <= 1000),
    state           text NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'proposed', 'declined')),
    device_time     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX observation_session ON observation (session_id);
CREATE INDEX observation_student_goal ON observation (student_id, goal_id);
CREATE INDEX observation_voids ON observation (voids_op_id) WHERE voids_op_id IS NOT NULL;
CREATE INDEX observation_txid ON observation (school_id, txid);
CREATE TRIGGER observation_txid BEFORE INSERT OR UPDATE ON observation FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE message_thread (
    id          bigserial PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    student_id  bigint NOT NULL REFERENCES student(id),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    created_by  bigint NOT NULL REFERENCES app_user(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX message_thread_student ON message_thread (student_id);
CREATE TRIGGER message_thread_txid BEFORE INSERT OR UPDATE ON message_thread FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- The id is the op_id of the op that sent it: one message per op, whatever the retries.
CREATE TABLE message (
    id          uuid PRIMARY KEY,
    school_id   bigint NOT NULL REFERENCES school(id),
    thread_id   bigint NOT NULL REFERENCES message_thread(id),
    student_id  bigint NOT NULL REFERENCES student(id),
    author_id   bigint NOT NULL REFERENCES app_user(id),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 8000),
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    txid        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX message_thread_idx ON message (thread_id, sent_at);
CREATE TRIGGER message_txid BEFORE INSERT OR UPDATE ON message FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

CREATE TABLE message_read (
    message_id  uuid NOT NULL REFERENCES message(id),
    user_id     bigint NOT NULL REFERENCES app_user(id),
    read_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id)
);

-- One draft per user per thread. version counts saves; a save based on an older
-- version than the stored one keeps both texts (conflict_body) for the user to resolve.
CREATE TABLE message_draft (
    id              bigserial PRIMARY KEY,
    school_id       bigint NOT NULL REFERENCES school(id),
    thread_id       bigint NOT NULL REFERENCES message_thread(id),
    user_id         bigint NOT NULL REFERENCES app_user(id),
    body            text NOT NULL DEFAULT '' CHECK (length(body) <= 8000),
    version         integer NOT NULL DEFAULT 0,
    conflict_body   text CHECK (length(conflict_body) <= 8000),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    txid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (thread_id, user_id)
);
CREATE TRIGGER message_draft_txid BEFORE INSERT OR UPDATE ON message_draft FOR EACH ROW EXECUTE FUNCTION tandem_stamp_txid();

-- Append-only record of every read, change, export and disclosure of student records.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    school_id   bigint,
    actor_id    bigint,
    actor_role  text,
    student_id  bigint,
    record_type text NOT NULL,
    record_id   text,
    action      text NOT NULL,
    request_id  text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_student ON audit_log (student_id, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION tandem_audit_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION tandem_audit_is_append_only();

-- Object-level authorization in one place: the students a user may see at moment p_at.
-- Aides: assigned students; teachers: their caseload (and students they serve);
-- providers: students whose active IEP lists them on a service (and any caseload);
-- parents: their own children, never after revocation; admins: their school.
-- server/auth/scope.py wraps it; raw SQL (sync) calls it directly.
CREATE FUNCTION tandem_student_scope(p_user bigint, p_school bigint, p_role text, p_at timestamptz)
RETURNS TABLE (student_id bigint) LANGUAGE sql STABLE AS $$
    SELECT s.id FROM student s
     WHERE p_role = 'admin' AND s.school_id = p_school
    UNION
    SELECT c.student_id FROM caseload_link c JOIN student s ON s.id = c.student_id
     WHERE p_role IN ('teacher', 'provider') AND c.teacher_id = p_user AND c.school_id = p_school
       AND s.archived_at IS NULL
       AND c.starts_at <= p_at AND (c.ends_at IS NULL OR p_at < c.ends_at)
    UNION
    SELECT sv.student_id FROM service sv JOIN iep i ON i.id = sv.iep_id
      JOIN student s ON s.id = sv.student_id
     WHERE p_role IN ('teacher', 'provider') AND sv.provider_id = p_user AND sv.school_id = p_school
       AND s.archived_at IS NULL AND i.status = 'active'
    UNION
    SELECT a.student_id FROM assignment a JOIN student s ON s.id = a.student_id
     WHERE p_role = 'aide' AND a.aide_id = p_user AND a.school_id = p_school
       AND s.archived_at IS NULL
       AND a.starts_at <= p_at AND (a.ends_at IS NULL OR p_at < a.ends_at)
    UNION
    SELECT g.student_id FROM guardianship g JOIN student s ON s.id = g.student_id
     WHERE p_role = 'parent' AND g.parent_id = p_user AND g.school_id = p_school
       AND s.archived_at IS NULL AND NOT g.revoked
       AND g.starts_at <= p_at AND (g.ends_at IS NULL OR p_at < g.ends_at)
$$;
