-- A new case looks for open cases of the same number and category (activities/cases.py): an index on
-- the number in the folded state, open cases only, keeps that a lookup rather than a scan.
CREATE INDEX complaints_open_by_number ON complaints ((state->>'msisdn'), category) WHERE status <> 'closed';
