-- The exactly-once ledger keeps a row for every processed seq, including an op rejected
-- because its op_id was already used by another op (op_id_conflict): that row repeats
-- the op_id, so op_id is unique only among the other rows. A retry of the rejected op
-- then finds its own row by (client_id, seq) and is answered as a duplicate.
ALTER TABLE sync_op DROP CONSTRAINT sync_op_op_id_key;
CREATE UNIQUE INDEX sync_op_op_id_key ON sync_op (op_id) WHERE code IS DISTINCT FROM 'op_id_conflict';
-- The pull reads a user's own drafts and an aide's own sessions by txid.
CREATE INDEX data_session_txid ON data_session (school_id, txid);
