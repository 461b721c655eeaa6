"""A v1 event written raw into PostgreSQL, as an older engine stored it: read back in the v2 shape by every read
path (the store, the read model's fold, the audit), its stored text untouched, and the chain still verifies."""

from __future__ import annotations

from datetime import datetime

from audit.verify import verify_case
from domain import events as ev
from domain.citations import cite
from domain.hashing import canonical_json, chain_hash
from domain.state import fold
from store.event_store import PostgresEventStore
from store.projections import rebuild_projections
from tests.audit.conftest import AuditDb
from tests.domain.factories import Stream

CASE = "CASE-V1-READ"
INSERT_RAW = """
INSERT INTO complaint_events (complaint_id, seq, type, version, occurred_at, actor_id, actor_role,
                              payload, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, 'engine', 'system', $6::jsonb, $7, $8)
"""


def _v1_already_remedied(seq: int, at: datetime) -> dict[str, object]:
    """The event as the engine wrote it before v2: the charge as one 'kind:record_id' string."""
    return {
        "type": "AdjustmentAlreadyRemedied",
        "version": 1,
        "complaint_id": CASE,
        "seq": seq,
        "at": at.isoformat().replace("+00:00", "Z"),
        "actor": {"id": "engine", "role": "system", "channel": "engine"},
        "adjustment_id": "adj-1",
        "charge": "cdr:SW1:000042",
        "prior_complaint_id": "CASE-FIRST",
        "prior_ledger_id": "ADJ-000042",
        "prior_applied_at": "2026-11-20T08:00:00Z",
        "idempotency_key": f"{CASE}:r0:adj-1",
    }


async def test_a_stored_v1_event_reads_as_v2_and_the_chain_still_verifies(audit_db: AuditDb) -> None:
    pool = audit_db.pool
    store = PostgresEventStore(pool)
    s = Stream(CASE)
    charge = cite("cdr", "SW1:000042", {"id": "SW1:000042", "charge_fen": 2280}, "charge")
    await store.append(CASE, [
        s.filed(category="billing_spike"),
        s.next(ev.ComplaintAcknowledged, assignee="agent-007", message="we are on it"),
        s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="refund", amount_fen=2280, reason="calls",
               needs_approval=False, citations=[charge]),
    ])
    old = _v1_already_remedied(4, s.at)
    async with pool.acquire() as conn, conn.transaction():
        # The chain's head is chain_heads (migration 0007); complaints keeps a read-only copy of it.
        head = await conn.fetchval("SELECT last_hash FROM chain_heads WHERE complaint_id = $1 FOR UPDATE", CASE)
        digest = chain_hash(head, old)
        await conn.execute(INSERT_RAW, CASE, 4, old["type"], 1, s.at, canonical_json(old), head, digest)
        for table in ("chain_heads", "complaints"):
            await conn.execute(f"UPDATE {table} SET last_seq = 4, last_hash = $2 WHERE complaint_id = $1", CASE, digest)

    # The store's read path: the current shape.
    loaded = await store.load(CASE)
    remedied = loaded[-1]
    assert isinstance(remedied, ev.AdjustmentAlreadyRemedied) and remedied.version == 2
    assert (remedied.charge_kind, remedied.charge_record_id) == ("cdr", "SW1:000042")
    assert remedied.charge == charge.key
    state = fold(loaded)
    assert state is not None and state.adjustments["adj-1"].status == "already_remedied"

    # What is stored is what was written: the chain covers it, and verifies.
    stored = await pool.fetchrow(
        "SELECT version, payload->>'version' AS v, payload->>'charge' AS charge FROM complaint_events "
        "WHERE complaint_id = $1 AND seq = 4", CASE)
    assert (stored["version"], stored["v"], stored["charge"]) == (1, "1", "cdr:SW1:000042")
    assert await store.verify(CASE) is None
    report = await verify_case(pool, CASE)
    assert report.ok, report

    # The read model folds it too, and the stream goes on after it: a retried append of the v1 event in its
    # v2 shape is the same event, and the next event chains onto the v1 row.
    assert await rebuild_projections(pool) == 1
    again = await store.append(CASE, [remedied])
    assert (again.appended, again.already_stored) == (0, 1)
    s.seq = 4
    await store.append(CASE, [s.next(ev.ComplaintResolved, outcome="already_refunded", summary="no money moved")])
    assert await store.verify(CASE) is None
    assert (await verify_case(pool, CASE)).ok
    assert (await store.state(CASE)).status.value == "resolved"  # type: ignore[union-attr]
