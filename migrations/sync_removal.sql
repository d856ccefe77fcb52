-- Writes after a removal (docs/security.md, "Recorded before, synced after a removal").
-- A client reports with every sync the highest seq it has assigned (its high-water
-- mark). When one of the user's caseload links or assignments ended since the client's
-- previous sync, the mark is kept with the server's time: after a link ends at T, that
-- user's ops on that student apply only if their seq is at most the mark of the
-- client's first sync at or after T (they were queued before it), and the client was
-- registered before T. Only those rows are kept: most syncs write none.
CREATE TABLE sync_mark (
    client_id   uuid NOT NULL REFERENCES sync_client (client_id),
    at          timestamptz NOT NULL,
    high_seq    bigint NOT NULL CHECK (high_seq >= 0),
    PRIMARY KEY (client_id, at)
);

-- Sessions and observations recorded before and synced after the recorder's removal:
-- applied, and flagged for the teacher's review. On the session: the removal's time.
ALTER TABLE data_session ADD COLUMN synced_after_removal timestamptz;
ALTER TABLE observation ADD COLUMN synced_after_removal boolean NOT NULL DEFAULT false;

-- When the permission a user had for a student at p_at ended: the latest end of the
-- caseload links / assignments that covered p_at, NULL if one of them is still open
-- (or the permission is not time-bound: admins, providers through a service).
CREATE FUNCTION tandem_scope_ended(p_user bigint, p_school bigint, p_role text,
                                   p_student bigint, p_at timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bool_or(x.ends_at IS NULL) THEN NULL ELSE max(x.ends_at) END
      FROM (SELECT c.ends_at FROM caseload_link c
             WHERE p_role IN ('teacher', 'provider') AND c.teacher_id = p_user
               AND c.school_id = p_school AND c.student_id = p_student
               AND c.starts_at <= p_at AND (c.ends_at IS NULL OR p_at < c.ends_at)
            UNION ALL
            SELECT a.ends_at FROM assignment a
             WHERE p_role = 'aide' AND a.aide_id = p_user
               AND a.school_id = p_school AND a.student_id = p_student
               AND a.starts_at <= p_at AND (a.ends_at IS NULL OR p_at < a.ends_at)) x
$$;

-- Whether one of the user's links ended in (p_since, p_now]: a sync then keeps its mark.
CREATE FUNCTION tandem_link_ended(p_user bigint, p_school bigint, p_since timestamptz,
                                  p_now timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM caseload_link c
                    WHERE c.teacher_id = p_user AND c.school_id = p_school
                      AND c.ends_at > p_since AND c.ends_at <= p_now)
        OR EXISTS (SELECT FROM assignment a
                    WHERE a.aide_id = p_user AND a.school_id = p_school
                      AND a.ends_at > p_since AND a.ends_at <= p_now)
$$;
