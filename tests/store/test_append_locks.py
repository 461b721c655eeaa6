"""An append locks the case's chain head before its read-model row, in one statement.

Every writer takes the two in that order (a rebuild of the read model takes neither head), so two appends to
one case queue on the head and never deadlock. Reading both in one statement must not turn the order round.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from domain import events as ev
from store.event_store import PostgresEventStore
from tests.audit.cases import store_case
from tests.audit.conftest import AuditDb
from tests.domain.factories import AGENT

CASE = "CASE-LOCKS"


async def _someone_else_waits_on_a_lock(conn: asyncpg.Connection, holder: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND pid NOT IN (pg_backend_pid(), $1)",
            holder.get_server_pid(),
        )
    )


async def test_an_append_holds_the_head_while_it_waits_for_the_read_model_row(audit_db: AuditDb) -> None:
    events = await store_case(audit_db.pool, CASE)
    note = ev.NoteAdded(complaint_id=CASE, seq=len(events) + 1, at=events[-1].at + timedelta(minutes=1),
                        actor=AGENT, text="a note while the read model row is held")
    holder, prober = await audit_db.pool.acquire(), await audit_db.pool.acquire()
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT 1 FROM complaints WHERE complaint_id = $1 FOR UPDATE", CASE)
        append = asyncio.create_task(PostgresEventStore(audit_db.pool).append(CASE, [note]))
        for _ in range(200):
            if await _someone_else_waits_on_a_lock(prober, holder):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the append never waited for the read-model row")
        # The append waits for the read-model row while holding the head: nobody else can take the head.
        async with prober.transaction():
            await prober.execute("SET LOCAL lock_timeout = '300ms'")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await prober.execute("SELECT 1 FROM chain_heads WHERE complaint_id = $1 FOR UPDATE", CASE)
        assert not append.done()
        await holding.rollback()
        result = await asyncio.wait_for(append, 10)
    finally:
        await audit_db.pool.release(holder)
        await audit_db.pool.release(prober)
    assert (result.appended, result.last_seq) == (1, note.seq)
