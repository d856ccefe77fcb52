-- A provider named on a service may read and record for the student (tandem_student_scope).
-- That access is a link like a caseload: the admin sees it in the student's link view
-- (since when) and can end it. Ending keeps the service and who delivered it; only the
-- access stops (provider_ended_at), as ending any other link keeps its history.
ALTER TABLE service ADD COLUMN provider_since timestamptz DEFAULT now();
ALTER TABLE service ADD COLUMN provider_ended_at timestamptz;
-- Services made before: named since the service was created (its audit row), if known.
UPDATE service sv
   SET provider_since = (SELECT min(a.at) FROM audit_log a
                          WHERE a.record_type = 'service' AND a.action = 'create'
                            AND a.record_id = sv.id::text)
 WHERE sv.provider_id IS NOT NULL;
UPDATE service SET provider_since = NULL WHERE provider_id IS NULL;
ALTER TABLE service ADD CONSTRAINT service_provider_ended_needs_provider
    CHECK (provider_ended_at IS NULL OR provider_id IS NOT NULL);

-- Same rule as before, except that a provider's access through a service ends when the
-- admin ends it (at p_at, like the end of a caseload link).
CREATE OR REPLACE FUNCTION tandem_student_scope(p_user bigint, p_school bigint, p_role text, p_at timestamptz)
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
       AND (sv.provider_ended_at IS NULL OR p_at < sv.provider_ended_at)
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
