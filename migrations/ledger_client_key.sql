-- The ledger's rows are written by one statement only, the sync write, and only when
-- its gate has found and locked the client's row (server/sync/statements.py): a row
-- for a client that does not exist cannot be written. The foreign key checked the same
-- thing again for every op, a per-row lookup and KEY SHARE lock on the client row that
-- cost about a tenth of a 200-op batch's write (bench/README.md, "Sync ingest"). The
-- ledger's school_id and user_id were never foreign keys for the same reason. Client
-- rows are never deleted (a revoked device's client is refused, not removed); whoever
-- adds pruning deletes a client's ledger rows with it.
ALTER TABLE sync_op DROP CONSTRAINT sync_op_client_id_fkey;
