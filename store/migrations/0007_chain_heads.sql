-- The chain head gets its own table. Until now the `complaints` row was the chain head (last_seq,
-- last_hash, locked by every append), the read model and the fold snapshot at once, so rebuilding the
-- read model also rewrote the head that audits compare the chain with. From here on:
--   chain_heads  the end of each case's hash chain; every append locks its row and moves it on;
--                `starter verify` compares the chain with it. Only the event store writes it.
--   complaints   the read model (and the fold snapshot appends continue from); rebuildable from the
--                events at any time. Its last_seq/last_hash stay as read-only copies for readers.
CREATE TABLE chain_heads (
    complaint_id text        PRIMARY KEY,
    last_seq     integer     NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash    char(64)    NOT NULL DEFAULT repeat('0', 64),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Existing cases: the head is where the stored chain ends (not the projection, which a rebuild rewrites).
INSERT INTO chain_heads (complaint_id, last_seq, last_hash)
SELECT DISTINCT ON (complaint_id) complaint_id, seq, hash
  FROM complaint_events
 ORDER BY complaint_id, seq DESC;

-- A head recorded in the read model for a case whose events are all gone is kept: verify must still see
-- that the case existed and report its missing events.
INSERT INTO chain_heads (complaint_id, last_seq, last_hash)
SELECT complaint_id, last_seq, last_hash FROM complaints WHERE last_seq > 0
ON CONFLICT (complaint_id) DO NOTHING;
