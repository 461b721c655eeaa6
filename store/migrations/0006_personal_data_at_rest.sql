-- Personal data at rest (PIPL): each customer's personal values are sealed under a data key of their own,
-- kept here only wrapped by the deployment's master key (store/pii.py). Erasure destroys the wrapped key
-- (crypto-shredding); the sealed values stay in the events, so every hash chain still verifies.

CREATE TABLE customer_keys (
    key_id        text        PRIMARY KEY CHECK (key_id ~ '^ck-[0-9a-f]{16}$'),
    -- HMAC of the number under the master key: finds the customer's key without storing the number.
    customer_ref  char(64)    NOT NULL,
    wrapped_key   bytea,                  -- nonce + AES-256-GCM(master key, data key); NULL once erased
    master_key_id text        NOT NULL,   -- which master key wrapped it
    created_at    timestamptz NOT NULL DEFAULT now(),
    erased_at     timestamptz,
    erased_by     text,
    erase_reason  text,
    CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((erased_at IS NULL) = (erased_by IS NULL))
);
-- One live key per customer; a customer who files again after an erasure gets a new one.
CREATE UNIQUE INDEX customer_keys_one_live ON customer_keys (customer_ref) WHERE erased_at IS NULL;

-- The key each case's personal values are sealed under (not a projection: after erasure the events can
-- no longer say whose case it was).
CREATE TABLE complaint_keys (
    complaint_id text        PRIMARY KEY,
    key_id       text        NOT NULL REFERENCES customer_keys (key_id),
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_keys_by_key ON complaint_keys (key_id);

-- The key table is the one place UPDATE is allowed, and only to erase: the wrapped key becomes NULL, once,
-- and nothing else changes. No row is ever deleted (the erased row is the record of the erasure).
CREATE FUNCTION refuse_customer_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.wrapped_key IS NULL
           AND (NEW.key_id, NEW.customer_ref, NEW.master_key_id, NEW.created_at)
               = (OLD.key_id, OLD.customer_ref, OLD.master_key_id, OLD.created_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% allows only erasure: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'erase a customer with `starter erase --msisdn N`; keys are never changed or removed';
END;
$$;

CREATE TRIGGER customer_keys_erase_only BEFORE UPDATE OR DELETE ON customer_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_customer_key_change();
CREATE TRIGGER customer_keys_no_truncate BEFORE TRUNCATE ON customer_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_customer_key_change();
CREATE FUNCTION refuse_complaint_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_keys is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'a case stays sealed under the key it was first stored with';
END;
$$;

CREATE TRIGGER complaint_keys_no_update_delete BEFORE UPDATE OR DELETE ON complaint_keys
    FOR EACH ROW EXECUTE FUNCTION refuse_complaint_key_change();
CREATE TRIGGER complaint_keys_no_truncate BEFORE TRUNCATE ON complaint_keys
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_complaint_key_change();

-- The read model finds a number's open cases by the customer's keyed reference, not by the number:
-- its folded state holds the number only sealed.
ALTER TABLE complaints ADD COLUMN customer_ref char(64);
DROP INDEX IF EXISTS complaints_open_by_number;
CREATE INDEX complaints_open_by_customer ON complaints (customer_ref, category) WHERE status <> 'closed';
