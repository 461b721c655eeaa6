-- Batch adjustments (批量调整): one operation of the billing system applied to many numbers at once,
-- and the balance-history rows it wrote, one per number. A remediation campaign (issue 18) reads a
-- batch's rows to find every number it touched; each row stays citable as a balance_change record.

CREATE TABLE boss.batch_adjustments (
    batch_id    text        PRIMARY KEY CHECK (batch_id ~ '^[A-Z0-9][A-Z0-9-]{2,31}$'),
    applied_at  timestamptz NOT NULL,
    amount_fen  bigint      NOT NULL CHECK (amount_fen <> 0),  -- per number, signed
    reason      text        NOT NULL CHECK (btrim(reason) <> ''),
    description text        NOT NULL DEFAULT ''
);

-- One row per number the batch touched: the balance_history row it wrote (msisdn, at, kind is that
-- table's key), so the campaign cites exactly the record the customer's history shows.
CREATE TABLE boss.batch_adjustment_rows (
    batch_id text        NOT NULL REFERENCES boss.batch_adjustments (batch_id),
    msisdn   text        NOT NULL REFERENCES boss.customers (msisdn),
    at       timestamptz NOT NULL,
    kind     text        NOT NULL DEFAULT 'batch_adjustment' CHECK (kind = 'batch_adjustment'),
    PRIMARY KEY (batch_id, msisdn),
    FOREIGN KEY (msisdn, at, kind) REFERENCES boss.balance_history (msisdn, at, kind)
);
