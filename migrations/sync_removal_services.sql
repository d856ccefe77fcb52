-- A provider's access through a service ends too (service.provider_ended_at): the
-- removal rule must see that end like the end of a caseload link or an assignment
-- (review of the removal rule: without it, an ended provider could backdate freely).
CREATE OR REPLACE FUNCTION tandem_scope_ended(p_user bigint, p_school bigint, p_role text,
                                              p_student bigint, p_at timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN bool_or(x.ends_at IS NULL) THEN NULL ELSE max(x.ends_at) END
      FROM (SELECT c.ends_at FROM caseload_link c
             WHERE p_role IN ('teacher', 'provider') AND c.teacher_id = p_user
               AND c.school_id = p_school AND c.student_id = p_student
               AND c.starts_at <= p_at AND (c.ends_at IS NULL OR p_at < c.ends_at)
            UNION ALL
            SELECT sv.provider_ended_at FROM service sv
             WHERE p_role IN ('teacher', 'provider') AND sv.provider_id = p_user
               AND sv.school_id = p_school AND sv.student_id = p_student
               AND (sv.provider_ended_at IS NULL OR p_at < sv.provider_ended_at)
            UNION ALL
            SELECT a.ends_at FROM assignment a
             WHERE p_role = 'aide' AND a.aide_id = p_user
               AND a.school_id = p_school AND a.student_id = p_student
               AND a.starts_at <= p_at AND (a.ends_at IS NULL OR p_at < a.ends_at)) x
$$;

CREATE OR REPLACE FUNCTION tandem_link_ended(p_user bigint, p_school bigint, p_since timestamptz,
                                             p_now timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM caseload_link c
                    WHERE c.teacher_id = p_user AND c.school_id = p_school
                      AND c.ends_at > p_since AND c.ends_at <= p_now)
        OR EXISTS (SELECT FROM service sv
                    WHERE sv.provider_id = p_user AND sv.school_id = p_school
                      AND sv.provider_ended_at > p_since AND sv.provider_ended_at <= p_now)
        OR EXISTS (SELECT FROM assignment a
                    WHERE a.aide_id = p_user AND a.school_id = p_school
                      AND a.ends_at > p_since AND a.ends_at <= p_now)
$$;
