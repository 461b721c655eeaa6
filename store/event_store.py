"""The PostgreSQL event store: ordered, idempotent, hash-chained appends with the read model in step."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import asyncpg

from domain.events import Event, parse_event
from domain.hashing import GENESIS_HASH, canonical_json, chain_hash
from domain.state import ComplaintState, apply, fold
from store import archive_queue
from store.archive_queue import ArchiveTicket
from store.projections import UPSERT_PROJECTION, projection_args


class EventStoreError(Exception):
    """An append the store refuses."""


class EventConflict(EventStoreError):
    """An event with a sequence number already taken by different content."""


class EventGap(EventStoreError):
    """Events that do not continue the stream where it ends."""


@dataclass(frozen=True)
class AppendResult:
    appended: int
    already_stored: int
    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class StoredEvent:
    event: Event
    prev_hash: str
    hash: str
    recorded_at: datetime


@dataclass(frozen=True)
class ChainBreak:
    complaint_id: str
    seq: int
    problem: str


_INSERT_EVENT = """
INSERT INTO complaint_events (complaint_id, seq, type, version, occurred_at, actor_id, actor_role,
                              payload, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
"""


class PostgresEventStore:
    """Appends and reads complaint event streams. Safe to call again with the same events."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def append(
        self, complaint_id: str, events: Sequence[Event], *, archive: ArchiveTicket | None = None
    ) -> AppendResult:
        """Append `events` (consecutive seqs) to the case's stream in one transaction.

        With `archive`, events that end the case also queue its run for the archiver, in the same transaction.

        Events already stored with the same content are skipped, so a retried append is a no-op;
        the same seq with different content raises EventConflict and nothing is written.
        """
        events = sorted(events, key=lambda event: event.seq)
        for event in events:
            if event.complaint_id != complaint_id:
                raise EventStoreError(f"event {event.seq} belongs to {event.complaint_id}, not {complaint_id}")
        async with self._pool.acquire() as conn, conn.transaction():
            # The head row is created empty if missing, then locked: concurrent appends to one case
            # queue here instead of racing for the next seq.
            await conn.execute(
                "INSERT INTO complaints (complaint_id) VALUES ($1) ON CONFLICT DO NOTHING", complaint_id
            )
            head = await conn.fetchrow(
                "SELECT last_seq, last_hash, state::text AS state FROM complaints WHERE complaint_id = $1 FOR UPDATE",
                complaint_id,
            )
            last_seq: int = head["last_seq"]
            last_hash: str = head["last_hash"]
            stored = [event for event in events if event.seq <= last_seq]
            fresh = [event for event in events if event.seq > last_seq]
            await self._check_already_stored(conn, complaint_id, stored)
            if not fresh:
                return AppendResult(0, len(stored), last_seq, last_hash)
            if fresh[0].seq != last_seq + 1 or any(b.seq != a.seq + 1 for a, b in pairwise(fresh)):
                raise EventGap(
                    f"case {complaint_id} ends at event {last_seq}; got events {[e.seq for e in fresh]}"
                )
            state = ComplaintState.model_validate_json(head["state"]) if head["state"] else None
            rows = []
            for event in fresh:
                state = apply(state, event)
                next_hash = chain_hash(last_hash, event)
                rows.append(
                    (
                        complaint_id,
                        event.seq,
                        event.type,
                        event.version,
                        event.at,
                        event.actor.id,
                        event.actor.role.value,
                        canonical_json(event),
                        last_hash,
                        next_hash,
                    )
                )
                last_hash = next_hash
            await conn.executemany(_INSERT_EVENT, rows)
            assert state is not None
            await conn.execute(UPSERT_PROJECTION, *projection_args(state, last_hash))
            if archive is not None and not state.is_open:
                await archive_queue.enqueue(conn, complaint_id, archive)
            return AppendResult(len(fresh), len(stored), state.last_seq, last_hash)

    async def _check_already_stored(
        self, conn: asyncpg.Connection, complaint_id: str, events: Sequence[Event]
    ) -> None:
        if not events:
            return
        rows = await conn.fetch(
            "SELECT seq, prev_hash, hash FROM complaint_events WHERE complaint_id = $1 AND seq = ANY($2::int[])",
            complaint_id,
            [event.seq for event in events],
        )
        by_seq = {row["seq"]: row for row in rows}
        for event in events:
            row = by_seq[event.seq]
            if chain_hash(row["prev_hash"], event) != row["hash"]:
                raise EventConflict(
                    f"event {event.seq} of case {complaint_id} is already stored with different content"
                )

    async def load(self, complaint_id: str, *, until: datetime | None = None) -> list[Event]:
        """The case's events in order; with `until`, only those that happened at or before it."""
        return [stored.event for stored in await self.load_stored(complaint_id, until=until)]

    async def load_stored(self, complaint_id: str, *, until: datetime | None = None) -> list[StoredEvent]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT payload::text AS payload, prev_hash, hash, recorded_at FROM complaint_events
                   WHERE complaint_id = $1 AND ($2::timestamptz IS NULL OR occurred_at <= $2)
                   ORDER BY seq""",
                complaint_id,
                until,
            )
        return [
            StoredEvent(parse_event(row["payload"]), row["prev_hash"], row["hash"], row["recorded_at"])
            for row in rows
        ]

    async def state(self, complaint_id: str, *, as_of: datetime | None = None) -> ComplaintState | None:
        """The case as it stands now, or as it stood at `as_of`, folded from its events."""
        return fold(await self.load(complaint_id, until=as_of))

    async def verify(self, complaint_id: str) -> ChainBreak | None:
        """Recompute the case's hash chain from the stored content; the first broken link, if any."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT seq, payload::text AS payload, prev_hash, hash FROM complaint_events
                   WHERE complaint_id = $1 ORDER BY seq""",
                complaint_id,
            )
        return find_chain_break(complaint_id, rows)


def find_chain_break(complaint_id: str, rows: Sequence[asyncpg.Record | dict]) -> ChainBreak | None:
    """Check rows (seq, payload text, prev_hash, hash) of one case, in seq order."""
    expected_prev = GENESIS_HASH
    for expected_seq, row in enumerate(rows, start=1):
        seq = row["seq"]
        if seq != expected_seq:
            return ChainBreak(complaint_id, expected_seq, f"event {expected_seq} is missing")
        if row["prev_hash"] != expected_prev:
            return ChainBreak(complaint_id, seq, "does not link to the event before it")
        if chain_hash(expected_prev, json.loads(row["payload"])) != row["hash"]:
            return ChainBreak(complaint_id, seq, "stored content does not match its hash")
        expected_prev = row["hash"]
    return None
