-- An observation's school, student and session are checked by one composite key into
-- data_session, and its goal by a composite key into goal, instead of five single
-- foreign keys. Two reasons:
-- * integrity: an observation can no longer name a student other than its session's,
--   nor a goal of another student (the sync engine judged this; now the database holds
--   it too);
-- * speed: every foreign key check is a per-row lookup that takes a KEY SHARE lock on
--   the referenced row. The school row is referenced by every observation of every
--   aide syncing at once, so concurrent batches turned its lock into a MultiXact on
--   each insert. Three checks instead of five cut the observation insert by about a
--   third (bench/README.md, "Sync ingest").
-- data_session still references school, student and staff, so nothing is lost.
CREATE UNIQUE INDEX data_session_scope_key ON data_session (id, school_id, student_id);
CREATE UNIQUE INDEX goal_student_key ON goal (id, student_id);
ALTER TABLE observation
    DROP CONSTRAINT observation_school_id_fkey,
    DROP CONSTRAINT observation_student_id_fkey,
    DROP CONSTRAINT observation_session_id_fkey,
    DROP CONSTRAINT observation_goal_id_fkey,
    ADD CONSTRAINT observation_session_fkey FOREIGN KEY (session_id, school_id, student_id)
        REFERENCES data_session (id, school_id, student_id),
    ADD CONSTRAINT observation_goal_fkey FOREIGN KEY (goal_id, student_id)
        REFERENCES goal (id, student_id);
