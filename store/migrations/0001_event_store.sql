-- The event store: one append-only stream of domain events per complaint, hash-chained.

CREATE TABLE complaint_events (
    complaint_id text        NOT NULL,
    seq          integer     NOT NULL CHECK (seq >= 1),
    type         text        NOT NULL,
    version      integer     NOT NULL,
    occurred_at  timestamptz NOT NULL,
    actor_id     text        NOT NULL,
    actor_role   text        NOT NULL,
    payload      jsonb       NOT NULL,
    prev_hash    char(64)    NOT NULL,
    hash         char(64)    NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_id, seq)
);

CREATE INDEX complaint_events_occurred_at ON complaint_events (occurred_at);

-- The database itself refuses to change history: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_events is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'record a new event instead of changing or removing one';
END;
$$;

CREATE TRIGGER complaint_events_no_update_delete
    BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();

CREATE TRIGGER complaint_events_no_truncate
    BEFORE TRUNCATE ON complaint_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();

-- Read model: one row per case, a projection of its events (rebuildable from complaint_events).
-- It also holds the chain head (last_seq, last_hash), which appends lock to stay in order.
CREATE TABLE complaints (
    complaint_id     text PRIMARY KEY,
    category         text,
    priority         text,
    status           text,
    assignee         text,
    escalation_level integer NOT NULL DEFAULT 0,
    msisdn_masked    text,
    sla_due_at       timestamptz,
    filed_at         timestamptz,
    updated_at       timestamptz,
    closed_at        timestamptz,
    outcome          text,
    money_moved_fen  bigint NOT NULL DEFAULT 0,
    last_seq         integer NOT NULL DEFAULT 0,
    last_hash        char(64) NOT NULL DEFAULT repeat('0', 64),
    state            jsonb
);

CREATE INDEX complaints_open_by_due ON complaints (sla_due_at) WHERE status <> 'closed';
CREATE INDEX complaints_status ON complaints (status, category);

-- Notifications to people (escalations, reminders), delivered by whoever reads the outbox.
CREATE TABLE notification_outbox (
    id              bigserial PRIMARY KEY,
    idempotency_key text UNIQUE NOT NULL,
    complaint_id    text NOT NULL,
    recipient_role  text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX notification_outbox_complaint ON notification_outbox (complaint_id);
