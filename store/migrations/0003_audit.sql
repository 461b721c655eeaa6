-- Archived Temporal histories: every run of a closed case's workflow, kept past Temporal's retention.
-- One row per (complaint_id, run_id); archiving a run twice is a no-op (INSERT ... ON CONFLICT DO NOTHING).

CREATE TABLE temporal_run_archive (
    complaint_id          text        NOT NULL,  -- the workflow id
    run_id                text        NOT NULL,
    workflow_type         text        NOT NULL,
    status                text        NOT NULL,  -- completed, failed, terminated, continued_as_new, ...
    started_at            timestamptz NOT NULL,
    closed_at             timestamptz NOT NULL,
    continued_from_run_id text,                  -- the run this one continued as new from, if any
    history_length        integer     NOT NULL CHECK (history_length >= 1),
    history               jsonb       NOT NULL,  -- WorkflowHistory.to_json(), the complete history
    history_sha256        char(64)    NOT NULL,  -- sha256 of the history's canonical JSON (sorted keys, compact)
    archived_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_id, run_id)
);

CREATE INDEX temporal_run_archive_closed_at ON temporal_run_archive (closed_at);

-- Like the event store, the archive is written once and never changed, whoever asks.
CREATE FUNCTION refuse_archive_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'an archived Temporal history is evidence: archive a new run instead';
END;
$$;

CREATE TRIGGER temporal_run_archive_no_update_delete
    BEFORE UPDATE OR DELETE ON temporal_run_archive
    FOR EACH ROW EXECUTE FUNCTION refuse_archive_change();

CREATE TRIGGER temporal_run_archive_no_truncate
    BEFORE TRUNCATE ON temporal_run_archive
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_archive_change();
