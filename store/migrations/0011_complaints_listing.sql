-- The API's ticket list pages the read model in SQL (api/listing.py): soonest deadline first, then by id.
-- These indexes serve that order with LIMIT/OFFSET, for everyone's cases and for one customer's (found
-- by the keyed reference of their number), without sorting the whole table.
CREATE INDEX IF NOT EXISTS complaints_by_due ON complaints (sla_due_at, complaint_id);
CREATE INDEX IF NOT EXISTS complaints_by_customer_due ON complaints (customer_ref, sla_due_at, complaint_id)
    WHERE customer_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS complaints_by_status_due ON complaints (status, sla_due_at, complaint_id);
