-- Idempotency-Key of the HTTP API's POST troubleTicket: the same key and body give the same ticket, a different
-- body under the same key is refused (409). A key is its caller's own (the token's subject), so two callers
-- cannot collide or probe each other's keys. The body is kept only as its hash: it holds personal data.
CREATE TABLE api_idempotency_keys (
    caller          text NOT NULL,
    idempotency_key text NOT NULL,
    request_sha256  char(64) NOT NULL,
    complaint_id    text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, idempotency_key)
);
