"""The queue of closed runs waiting to be archived (table archive_queue, migration 0100).

A row is written in the same transaction as the events that end a case (store.event_store), or
that the reconciler appends for a run stopped from outside; the archiver (workflows/archiver.py)
takes rows in batches, archives their runs' histories and deletes them. Idempotent throughout: a
run enqueued twice is one row, and archiving a run twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from ports.event_store import ArchiveTicket

_ENQUEUE = """
INSERT INTO archive_queue (complaint_id, run_id, task_queue, not_before)
VALUES ($1, $2, $3, now() + $4::interval)
ON CONFLICT (complaint_id, run_id) DO NOTHING
"""
# One archiver per task queue takes its rows; should two ever overlap, archiving twice stores once.
_DUE = """
SELECT complaint_id, run_id FROM archive_queue
 WHERE task_queue = $1 AND not_before <= now()
 ORDER BY not_before
 LIMIT $2
"""
# The run ends moments after its last save, so the first look waits a little.
FIRST_LOOK_AFTER = timedelta(milliseconds=500)


@dataclass(frozen=True)
class QueuedRun:
    complaint_id: str
    run_id: str


async def enqueue(conn: asyncpg.Connection, complaint_id: str, ticket: ArchiveTicket) -> None:
    """Queue a run for archiving, inside the caller's transaction."""
    await conn.execute(_ENQUEUE, complaint_id, ticket.run_id, ticket.task_queue, FIRST_LOOK_AFTER)


async def due(pool: asyncpg.Pool, task_queue: str, limit: int) -> list[QueuedRun]:
    """Up to `limit` queued runs whose time has come, oldest first."""
    rows = await pool.fetch(_DUE, task_queue, limit)
    return [QueuedRun(row["complaint_id"], row["run_id"]) for row in rows]


async def done(pool: asyncpg.Pool, runs: list[QueuedRun]) -> None:
    """Archived (or nothing left to archive): off the queue."""
    if runs:
        await pool.execute(
            "DELETE FROM archive_queue q USING unnest($1::text[], $2::text[]) AS d(complaint_id, run_id)"
            " WHERE q.complaint_id = d.complaint_id AND q.run_id = d.run_id",
            [run.complaint_id for run in runs], [run.run_id for run in runs],
        )


async def later(pool: asyncpg.Pool, runs: list[QueuedRun], after: timedelta) -> None:
    """Still running (or Temporal answered with an error): look again after `after` times the attempts so far."""
    if runs:
        await pool.execute(
            "UPDATE archive_queue q SET attempts = attempts + 1,"
            " not_before = now() + least($3::interval * (attempts + 1), interval '10 minutes')"
            " FROM unnest($1::text[], $2::text[]) AS d(complaint_id, run_id)"
            " WHERE q.complaint_id = d.complaint_id AND q.run_id = d.run_id",
            [run.complaint_id for run in runs], [run.run_id for run in runs], after,
        )


async def queued(pool: asyncpg.Pool, complaint_id: str) -> int:
    """How many runs of a case wait to be archived."""
    return int(await pool.fetchval("SELECT count(*) FROM archive_queue WHERE complaint_id = $1", complaint_id))
