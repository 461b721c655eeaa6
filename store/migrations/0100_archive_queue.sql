-- Closed runs waiting for the archiver (workflows/archiver.py): written in the same transaction as the
-- events that end a case, so no closed case can miss its archive; a row goes once its runs are archived.
CREATE TABLE archive_queue (
    complaint_id text NOT NULL,
    run_id       text NOT NULL,
    task_queue   text NOT NULL,
    enqueued_at  timestamptz NOT NULL DEFAULT now(),
    -- The run ends moments after its last save; the archiver looks again after this.
    not_before   timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (complaint_id, run_id)
);
CREATE INDEX archive_queue_due ON archive_queue (task_queue, not_before);
