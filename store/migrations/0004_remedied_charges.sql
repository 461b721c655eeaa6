-- One remedy per charge, ever: every money adjustment names the charges it remedies (a call record, a
-- day's charge, a sale), and each charge can be remedied by one ledger row only, whichever case asks.
-- The row is written in the same transaction as the ledger row; the partial unique index is the guard
-- that holds even when two cases about the same charge apply their remedy at the same moment.

-- The records each adjustment rests on: [{kind, record_id, sha256, role}], as the case cited them.
ALTER TABLE boss.adjustment_ledger ADD COLUMN citations jsonb NOT NULL DEFAULT '[]'::jsonb;

CREATE TABLE boss.remedied_charges (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_key     text        NOT NULL CHECK (charge_key ~ '^[a-z_]+:.+$'),  -- kind:record_id
    ledger_id      bigint      NOT NULL REFERENCES boss.adjustment_ledger (id),
    complaint_id   text        NOT NULL,
    remedied_at    timestamptz NOT NULL DEFAULT now(),
    -- Only the sandbox's rearm_stories releases a charge, so the seed's stories can be told again;
    -- the row itself stays as the record of the remedy.
    released_at    timestamptz,
    release_reason text,
    CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
CREATE UNIQUE INDEX remedied_charges_once ON boss.remedied_charges (charge_key) WHERE released_at IS NULL;
CREATE INDEX remedied_charges_by_ledger ON boss.remedied_charges (ledger_id);

-- A remedy is a fact: it may be released once (by the sandbox's rearm), never changed or removed.
CREATE FUNCTION boss.refuse_remedy_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
           AND (NEW.id, NEW.charge_key, NEW.ledger_id, NEW.complaint_id, NEW.remedied_at)
               = (OLD.id, OLD.charge_key, OLD.ledger_id, OLD.complaint_id, OLD.remedied_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'boss.remedied_charges is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'a remedied charge stays remedied; only the sandbox may release it, once';
END;
$$;

CREATE TRIGGER remedied_charges_append_only BEFORE UPDATE OR DELETE ON boss.remedied_charges
    FOR EACH ROW EXECUTE FUNCTION boss.refuse_remedy_change();
CREATE TRIGGER remedied_charges_no_truncate BEFORE TRUNCATE ON boss.remedied_charges
    FOR EACH STATEMENT EXECUTE FUNCTION boss.refuse_remedy_change();
