-- TMF621 events, written by the event store in the same transaction as the domain events they come from
-- (domain/tmf_events.py), and the hub's listeners with one delivery row per (listener, event).

CREATE TABLE tmf_event_outbox (
    id            bigserial PRIMARY KEY,
    event_id      text UNIQUE NOT NULL,          -- complaint:seq:ordinal, so a retried append adds nothing
    complaint_id  text NOT NULL,
    seq           integer NOT NULL,
    ordinal       integer NOT NULL,
    event_type    text NOT NULL,
    event_time    timestamptz NOT NULL,
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Set once the relay has made this event's deliveries for the listeners registered then.
    fanned_out_at timestamptz
);
CREATE INDEX tmf_event_outbox_to_fan_out ON tmf_event_outbox (id) WHERE fanned_out_at IS NULL;

CREATE TABLE hub_listeners (
    id              text PRIMARY KEY,
    callback        text NOT NULL,
    query           text NOT NULL DEFAULT '',
    -- The whsec_ secret the deliveries are signed with: the relay needs it back, so it is kept, and shown
    -- to the registering client once.
    secret          text NOT NULL,
    registered_by   text NOT NULL,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    -- An endpoint that answered 410 Gone is disabled: nothing more is sent to it.
    disabled_at     timestamptz,
    disabled_reason text,
    deleted_at      timestamptz
);

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    listener_id     text NOT NULL REFERENCES hub_listeners (id),
    outbox_id       bigint NOT NULL REFERENCES tmf_event_outbox (id),
    complaint_id    text NOT NULL,
    seq             integer NOT NULL,
    ordinal         integer NOT NULL,
    -- pending: to send (again); delivered; dead: retries exhausted, on the dead-letter list until replayed;
    -- cancelled: its listener was disabled or deleted (last_error says which).
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'dead', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A relay that took the delivery holds it until then; one that dies mid-send loses it back to the others.
    leased_until    timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    dead_at         timestamptz,
    replayed        integer NOT NULL DEFAULT 0,
    UNIQUE (listener_id, outbox_id)
);
-- In order per ticket: a delivery goes only when every earlier one to the same listener for the same
-- ticket has been delivered (or cancelled).
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (listener_id, complaint_id, seq, ordinal);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (dead_at) WHERE status = 'dead';

-- Notifications to people go through the same relay: attempts, retries and a dead letter of their own.
ALTER TABLE notification_outbox
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN leased_until    timestamptz,
    ADD COLUMN last_error      text,
    ADD COLUMN dead_at         timestamptz;
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND dead_at IS NULL;

-- The embedded notification adapter's mailbox: what would have gone out by SMS or mail, as the outbox
-- stored it (personal values sealed under the case's key).
CREATE TABLE notification_mailbox (
    id              bigserial PRIMARY KEY,
    notification_id bigint UNIQUE NOT NULL REFERENCES notification_outbox (id),
    complaint_id    text NOT NULL,
    recipient_role  text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
