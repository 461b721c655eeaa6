"""Migration 0007 takes each chain's head out of the read model into chain_heads, from existing data."""

from __future__ import annotations

from datetime import timedelta

from domain import events as ev
from store.event_store import PostgresEventStore
from store.migrate import migrate
from store.projections import rebuild_projections
from tests.audit.cases import forwarding_case, store_case
from tests.audit.conftest import AuditDb
from tests.audit.test_verify import privileged
from tests.domain.factories import AGENT


async def test_existing_cases_get_their_head_from_where_the_stored_chain_ends(audit_db: AuditDb) -> None:
    events = await store_case(audit_db.pool, "CASE-H1")
    await store_case(audit_db.pool, "CASE-H2")
    store = PostgresEventStore(audit_db.pool)
    before = await store.head("CASE-H1")
    # The database as it was before 0007: no chain_heads; CASE-H2's events all gone, its read-model row left.
    conn = await privileged(audit_db.url)
    try:
        await conn.execute("DROP TABLE chain_heads")
        await conn.execute("DELETE FROM schema_migrations WHERE name = '0007_chain_heads.sql'")
        await conn.execute("DELETE FROM complaint_events WHERE complaint_id = 'CASE-H2'")
        assert await migrate(conn) == ["0007_chain_heads.sql"]
    finally:
        await conn.close()

    assert await store.head("CASE-H1") == before
    assert before is not None and before.last_seq == len(events)
    assert await store.verify("CASE-H1") is None
    # The case with no events left keeps its head, so verification still sees what is missing.
    gone = await store.verify("CASE-H2")
    assert gone is not None and "missing" in gone.problem
    # Appends continue from the migrated head.
    more = ev.NoteAdded(complaint_id="CASE-H1", seq=len(events) + 1, at=events[-1].at + timedelta(minutes=1),
                        actor=AGENT, text="after the migration")
    result = await store.append("CASE-H1", [more])
    assert (result.appended, result.last_seq) == (1, len(events) + 1)


async def test_rebuilding_the_read_model_leaves_the_chain_heads_alone(audit_db: AuditDb) -> None:
    await store_case(audit_db.pool, "CASE-H3")
    store = PostgresEventStore(audit_db.pool)
    head = await store.head("CASE-H3")
    assert await rebuild_projections(audit_db.pool) == 1
    assert await store.head("CASE-H3") == head
    assert forwarding_case("CASE-H3")[-1].seq == (head.last_seq if head else 0)
