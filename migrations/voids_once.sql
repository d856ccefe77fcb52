-- An op is voided (undone, or corrected by a teacher) at most once among the events
-- that count or wait for review: the rule the sync engine judges with ("already
-- undone" = a voiding event not declined), now held by the database too. Two devices
-- of one aide undoing the same tap at the same instant each judged it not yet undone
-- (each prefetch's snapshot predates the other's commit); now the second one's write
-- hits this index, its batch is retried whole, and the retry rejects the undo with
-- `undo_target`.
DROP INDEX observation_voids;
CREATE UNIQUE INDEX observation_voids_once ON observation (voids_op_id)
    WHERE voids_op_id IS NOT NULL AND state <> 'declined';
