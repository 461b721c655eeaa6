-- The billing-system (BOSS) sandbox: customers, bills, call records and the money the store moves.
-- Seeded by sandboxes/boss_seed.py; read and written only through adapters/billing.py.
-- Money is bigint fen; times are timestamptz (UTC); days are the local (Asia/Shanghai) calendar day.

CREATE SCHEMA IF NOT EXISTS boss;

-- The date the stories are anchored to, fixed by the first seeding so later seedings do not move it.
CREATE TABLE boss.seed_info (
    singleton   boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    anchor_date date        NOT NULL,
    -- The current billing period runs from period_start to the anchor date ("so far").
    period_start date       NOT NULL CHECK (period_start <= anchor_date),
    seeded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boss.tariff_plans (
    code                        text    PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name                        text    NOT NULL CHECK (btrim(name) <> ''),
    account_type                text    NOT NULL CHECK (account_type IN ('prepaid', 'postpaid')),
    monthly_fee_fen             bigint  NOT NULL CHECK (monthly_fee_fen >= 0),
    included_minutes            integer NOT NULL CHECK (included_minutes >= 0),
    per_minute_fen              bigint  NOT NULL CHECK (per_minute_fen >= 0),
    long_distance_per_minute_fen bigint NOT NULL CHECK (long_distance_per_minute_fen >= 0),
    sms_fen                     bigint  NOT NULL CHECK (sms_fen >= 0),
    description                 text    NOT NULL
);

-- Agent stores (代销店) that sell our numbers: partners the store verifies sales with.
CREATE TABLE boss.agent_stores (
    code          text PRIMARY KEY CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name          text NOT NULL CHECK (btrim(name) <> ''),
    contact_phone text NOT NULL,
    address       text NOT NULL
);

CREATE TABLE boss.customers (
    msisdn         text        PRIMARY KEY CHECK (msisdn ~ '^1[3-9][0-9]{9}$'),
    name           text        NOT NULL CHECK (btrim(name) <> ''),
    id_number      text        NOT NULL CHECK (id_number ~ '^[0-9]{17}[0-9X]$'),
    status         text        NOT NULL CHECK (status IN ('active', 'suspended', 'cancelled')),
    account_type   text        NOT NULL CHECK (account_type IN ('prepaid', 'postpaid')),
    brand          text        NOT NULL,
    plan_code      text        NOT NULL REFERENCES boss.tariff_plans (code),
    sales_channel  text        NOT NULL CHECK (sales_channel IN ('own_store', 'agent_store', 'web', 'hotline')),
    agent_code     text        REFERENCES boss.agent_stores (code),
    opened_at      timestamptz NOT NULL,
    balance_fen    bigint      NOT NULL CHECK (balance_fen >= 0),
    validity_until date,
    cancelled_at   timestamptz,
    arrears_fen    bigint      NOT NULL DEFAULT 0 CHECK (arrears_fen >= 0),
    -- Numbers the store may use to test whether a channel (terminal, web) itself is faulty.
    is_reference   boolean     NOT NULL DEFAULT false,
    remark         text        NOT NULL DEFAULT '',
    CHECK ((sales_channel = 'agent_store') = (agent_code IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);

-- 改号通知: callers of the old number are told (and, at the old carrier, forwarded to) the new one.
CREATE TABLE boss.number_change_notices (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msisdn       text        NOT NULL REFERENCES boss.customers (msisdn),
    old_msisdn   text        NOT NULL CHECK (old_msisdn ~ '^1[3-9][0-9]{9}$'),
    old_carrier  text        NOT NULL,
    active       boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz,
    UNIQUE (msisdn, old_msisdn),
    CHECK (active = (cancelled_at IS NULL))
);
CREATE UNIQUE INDEX number_change_notices_one_active ON boss.number_change_notices (msisdn) WHERE active;

CREATE TABLE boss.monthly_bills (
    msisdn       text   NOT NULL REFERENCES boss.customers (msisdn),
    period_start date   NOT NULL,
    period_end   date   NOT NULL,
    total_fen    bigint NOT NULL CHECK (total_fen >= 0),
    closed       boolean NOT NULL,
    PRIMARY KEY (msisdn, period_start),
    CHECK (period_end >= period_start)
);

-- Call detail records, each as the owning number's switch recorded it (the other party keeps its own).
CREATE TABLE boss.call_records (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msisdn           text        NOT NULL REFERENCES boss.customers (msisdn),
    other_party      text        NOT NULL CHECK (other_party ~ '^[0-9]{3,20}$'),
    direction        text        NOT NULL CHECK (direction IN ('outgoing', 'incoming')),
    call_type        text        NOT NULL CHECK (call_type IN ('local', 'long_distance', 'roaming')),
    started_at       timestamptz NOT NULL,
    duration_seconds integer     NOT NULL CHECK (duration_seconds >= 0),
    charge_fen       bigint      NOT NULL CHECK (charge_fen >= 0),
    UNIQUE (msisdn, started_at, other_party, direction)
);
CREATE INDEX call_records_by_time ON boss.call_records (msisdn, started_at);

-- The same day's charges as each channel shows them: the billing system, the self-service terminal, the web.
CREATE TABLE boss.daily_charges (
    msisdn     text   NOT NULL REFERENCES boss.customers (msisdn),
    channel    text   NOT NULL CHECK (channel IN ('billing', 'terminal', 'web')),
    day        date   NOT NULL,
    amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
    PRIMARY KEY (msisdn, channel, day)
);

-- 资金变化明细: every change of a prepaid balance, signed, with the validity before and after.
CREATE TABLE boss.balance_history (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msisdn            text        NOT NULL REFERENCES boss.customers (msisdn),
    at                timestamptz NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('recharge', 'promotion', 'usage', 'batch_adjustment')),
    amount_fen        bigint      NOT NULL CHECK (amount_fen <> 0),
    balance_after_fen bigint      NOT NULL,
    validity_before   date,
    validity_after    date,
    reason            text        NOT NULL DEFAULT '',
    UNIQUE (msisdn, at, kind)
);

-- Value-added (SP) services; `customer_confirmed` is whether the customer's own order is on record.
CREATE TABLE boss.sp_subscriptions (
    msisdn             text        NOT NULL REFERENCES boss.customers (msisdn),
    sp_code            text        NOT NULL CHECK (sp_code ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    service_name       text        NOT NULL,
    sp_name            text        NOT NULL,
    monthly_fee_fen    bigint      NOT NULL CHECK (monthly_fee_fen >= 0),
    ordered_via        text        NOT NULL CHECK (ordered_via IN ('sms', 'web', 'store', 'hotline', 'none')),
    customer_confirmed boolean     NOT NULL,
    delivery_source    text        NOT NULL CHECK (delivery_source IN ('sp', 'web')),
    subscribed_at      timestamptz NOT NULL,
    status             text        NOT NULL CHECK (status IN ('active', 'unsubscribed')),
    ended_at           timestamptz,
    PRIMARY KEY (msisdn, sp_code),
    CHECK ((status = 'unsubscribed') = (ended_at IS NOT NULL))
);

CREATE TABLE boss.received_sms (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msisdn      text        NOT NULL REFERENCES boss.customers (msisdn),
    sender      text        NOT NULL CHECK (sender ~ '^[0-9]{3,20}$'),
    source_kind text        NOT NULL CHECK (source_kind IN ('point_to_point', 'sp', 'web')),
    sp_code     text,
    received_at timestamptz NOT NULL,
    text        text        NOT NULL,
    UNIQUE (msisdn, sender, received_at)
);

-- Blocking web-originated SMS is a setting the store can lift again, so it is not an audit record.
CREATE TABLE boss.sms_blocks (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    msisdn          text        NOT NULL REFERENCES boss.customers (msisdn),
    kind            text        NOT NULL CHECK (kind IN ('web_originated')),
    blocked_at      timestamptz NOT NULL DEFAULT now(),
    lifted_at       timestamptz
);
CREATE UNIQUE INDEX sms_blocks_one_active ON boss.sms_blocks (msisdn, kind) WHERE lifted_at IS NULL;

-- --- money and audit records: append-only, never rearmed, never deleted ------------------------

-- Every write through the adapter, keyed by its idempotency key: a retry finds its first result here.
CREATE TABLE boss.actions (
    idempotency_key text        PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    action          text        NOT NULL,
    msisdn          text,
    request         jsonb       NOT NULL,
    effective       boolean     NOT NULL,
    reference       text,
    details         jsonb       NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boss.adjustment_ledger (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    complaint_id      text        NOT NULL CHECK (btrim(complaint_id) <> ''),
    msisdn            text        NOT NULL REFERENCES boss.customers (msisdn),
    kind              text        NOT NULL CHECK (kind IN
                          ('refund', 'double_refund', 'validity_extension', 'arrears_waiver', 'sp_unsubscription')),
    amount_fen        bigint      NOT NULL CHECK (amount_fen >= 0),
    validity_until    date,
    sp_code           text,
    reason            text        NOT NULL CHECK (btrim(reason) <> ''),
    balance_after_fen bigint      NOT NULL,
    arrears_after_fen bigint      NOT NULL,
    validity_after    date,
    applied_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'validity_extension') = (validity_until IS NOT NULL)),
    CHECK ((kind = 'sp_unsubscription') = (sp_code IS NOT NULL)),
    CHECK (kind NOT IN ('refund', 'double_refund', 'arrears_waiver') OR amount_fen > 0)
);
CREATE INDEX adjustment_ledger_by_number ON boss.adjustment_ledger (msisdn, applied_at);

CREATE TABLE boss.payments (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    msisdn          text        NOT NULL REFERENCES boss.customers (msisdn),
    purpose         text        NOT NULL CHECK (purpose IN ('arrears_settlement')),
    amount_fen      bigint      NOT NULL CHECK (amount_fen > 0),
    paid_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boss.spam_reports (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    msisdn          text        NOT NULL REFERENCES boss.customers (msisdn),
    senders         text[]      NOT NULL CHECK (cardinality(senders) > 0),
    reported_to     text        NOT NULL DEFAULT '10086999',
    reported_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boss.incidents (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    channel         text        NOT NULL CHECK (channel IN ('billing', 'terminal', 'web')),
    description     text        NOT NULL CHECK (btrim(description) <> ''),
    msisdn          text        REFERENCES boss.customers (msisdn),
    raised_at       timestamptz NOT NULL DEFAULT now()
);

-- Money and audit rows are facts: the database refuses to change or remove them, whoever asks.
CREATE FUNCTION boss.refuse_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'boss.% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'record a new row (e.g. a new adjustment) instead of changing or removing one';
END;
$$;

CREATE TRIGGER actions_append_only BEFORE UPDATE OR DELETE ON boss.actions
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER adjustment_ledger_append_only BEFORE UPDATE OR DELETE ON boss.adjustment_ledger
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON boss.payments
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER spam_reports_append_only BEFORE UPDATE OR DELETE ON boss.spam_reports
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER incidents_append_only BEFORE UPDATE OR DELETE ON boss.incidents
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_record_change();

-- TRUNCATE too: a sandbox is wiped by dropping its database, never by emptying its money records.
CREATE TRIGGER actions_no_truncate BEFORE TRUNCATE ON boss.actions
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER adjustment_ledger_no_truncate BEFORE TRUNCATE ON boss.adjustment_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER payments_no_truncate BEFORE TRUNCATE ON boss.payments
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER spam_reports_no_truncate BEFORE TRUNCATE ON boss.spam_reports
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_record_change();
CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON boss.incidents
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_record_change();
