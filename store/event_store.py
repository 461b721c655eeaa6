"""The PostgreSQL event store: ordered, idempotent, hash-chained appends with the read model in step.

Personal values are sealed under the customer's key before they are stored (store/pii.py), and the hash
chain covers what is stored: the sealed form. Reads open them again, or give `[erased]` once the key is
destroyed; either way the chain still verifies.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from itertools import pairwise

import asyncpg

from domain import events as ev
from domain.events import Event, parse_event
from domain.personal_data import same_or_erased
from domain.state import ComplaintState, fold
from domain.upcasting import upcast
from ports.event_store import (
    AppendResult,
    ArchiveTicket,
    ChainBreak,
    ChainHead,
    ChainLink,
    EventConflict,
    EventGap,
    EventStoreError,
    StoredChain,
    StoredEvent,
    check_head,
    find_chain_break,
)
from store import archive_queue
from store.append_batch import AppendBatch
from store.pii import CaseKey, PersonalDataVault, default_vault, unseal_with
from store.projections import load_head_state, projection_args
from store.rows import model_from_row

# The chain head, then the read model's row (the fold snapshot the append continues from), both locked and in
# that order, in one statement: each sub-select locks its row as the outer select reaches it, left to right.
# Concurrent appends to one case queue on the head instead of racing for the next seq; a read-model rebuild
# waits on the snapshot's lock.
_LOCK_HEAD_AND_SNAPSHOT = """
SELECT (SELECT ROW(last_seq, last_hash) FROM chain_heads WHERE complaint_id = $1 FOR UPDATE) AS head,
       (SELECT ROW(last_seq, state::text) FROM complaints WHERE complaint_id = $1 FOR UPDATE) AS snapshot"""


class PostgresEventStore:
    """Appends and reads complaint event streams. Safe to call again with the same events.

    `vault` holds the master key that opens the customers' keys; callers at the edges pass the one
    built from their settings, others get the one the environment configures.
    """

    def __init__(self, pool: asyncpg.Pool, vault: PersonalDataVault | None = None) -> None:
        self._pool = pool
        self._vault = vault or default_vault()

    @property
    def vault(self) -> PersonalDataVault:
        """The vault that seals and opens the events' personal values."""
        return self._vault

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool the store writes through."""
        return self._pool

    async def append(
        self, complaint_id: str, events: Sequence[Event], *, archive: ArchiveTicket | None = None
    ) -> AppendResult:
        """Append `events` (consecutive seqs) to the case's stream in one transaction.

        With `archive`, events that end the case also queue its run for the archiver, in the same transaction.

        Events already stored with the same content are skipped, so a retried append is a no-op;
        the same seq with different content raises EventConflict and nothing is written.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            return await self.append_in(conn, complaint_id, events, archive=archive)

    async def append_in(
        self,
        conn: asyncpg.Connection,
        complaint_id: str,
        events: Sequence[Event],
        *,
        archive: ArchiveTicket | None = None,
    ) -> AppendResult:
        """`append` inside the caller's transaction (erasure appends its events with the key change)."""
        events = sorted(events, key=lambda event: event.seq)
        for event in events:
            if event.complaint_id != complaint_id:
                raise EventStoreError(f"event {event.seq} belongs to {event.complaint_id}, not {complaint_id}")
        last_seq, last_hash, snapshot = await _lock_head_and_snapshot(conn, complaint_id)
        stored = [event for event in events if event.seq <= last_seq]
        fresh = [event for event in events if event.seq > last_seq]
        key = await self._case_key(conn, complaint_id, events, snapshot)
        await self._check_already_stored(conn, complaint_id, stored, key)
        if not fresh:
            return AppendResult(0, len(stored), last_seq, last_hash)
        if fresh[0].seq != last_seq + 1 or any(b.seq != a.seq + 1 for a, b in pairwise(fresh)):
            raise EventGap(f"case {complaint_id} ends at event {last_seq}; got events {[e.seq for e in fresh]}")
        batch = AppendBatch(key, load_head_state(snapshot, key), last_hash)
        for event in fresh:
            batch.add(event)
        state, last_hash = batch.state, batch.last_hash
        assert state is not None
        await batch.write(conn, projection_args(state, last_hash, key))
        if archive is not None and not state.is_open:
            await archive_queue.enqueue(conn, complaint_id, archive)
        return AppendResult(len(fresh), len(stored), state.last_seq, last_hash)

    async def _case_key(
        self, conn: asyncpg.Connection, complaint_id: str, events: Sequence[Event], head_state: str | None
    ) -> CaseKey | None:
        """The key the case is sealed under.

        Created with its first event (or, for a case stored before keys existed, from the number its folded state
        holds).
        """
        key = await self._vault.key_of_case(conn, complaint_id)
        if key is not None:
            return key
        filed = next((event for event in events if isinstance(event, ev.ComplaintFiled)), None)
        if filed is not None:
            return await self._vault.key_for_new_case(conn, complaint_id, filed.msisdn)
        if head_state:
            state = ComplaintState.model_validate_json(head_state)
            return await self._vault.key_for_new_case(conn, complaint_id, state.msisdn)
        return None

    async def _check_already_stored(
        self, conn: asyncpg.Connection, complaint_id: str, events: Sequence[Event], key: CaseKey | None
    ) -> None:
        """Stored events must equal the ones sent again, compared opened (each seal has a fresh nonce).

        An erased value matches whatever is sent: nothing can tell what it was any more.
        """
        if not events:
            return
        rows = await conn.fetch(
            """SELECT seq, payload::text AS payload FROM complaint_events
               WHERE complaint_id = $1 AND seq = ANY($2::int[])""",
            complaint_id,
            [event.seq for event in events],
        )
        keys = {key.key_id: key} if key is not None else {}
        by_seq = {row["seq"]: unseal_with(json.loads(row["payload"]), keys) for row in rows}
        for event in events:
            # Compared in the current shape: an event stored in an older version is the same event.
            if not same_or_erased(upcast(by_seq[event.seq]), event.model_dump(mode="json")):
                raise EventConflict(
                    f"event {event.seq} of case {complaint_id} is already stored with different content"
                )

    async def load(self, complaint_id: str, *, until: datetime | None = None) -> list[Event]:
        """The case's events in order; with `until`, only those that happened at or before it."""
        return [stored.event for stored in await self.load_stored(complaint_id, until=until)]

    async def load_stored(self, complaint_id: str, *, until: datetime | None = None) -> list[StoredEvent]:
        """The case's events opened (`[erased]` where the key is gone), each with what is stored."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT payload::text AS payload, prev_hash, hash, recorded_at FROM complaint_events
                   WHERE complaint_id = $1 AND ($2::timestamptz IS NULL OR occurred_at <= $2)
                   ORDER BY seq""",
                complaint_id,
                until,
            )
            opened = await self._vault.unseal(conn, [json.loads(row["payload"]) for row in rows])
        return [
            StoredEvent(parse_event(data), row["prev_hash"], row["hash"], row["recorded_at"], row["payload"])
            for row, data in zip(rows, opened, strict=True)
        ]

    async def state(self, complaint_id: str, *, as_of: datetime | None = None) -> ComplaintState | None:
        """The case as it stands now, or as it stood at `as_of`, folded from its events."""
        return fold(await self.load(complaint_id, until=as_of))

    async def head(self, complaint_id: str) -> ChainHead | None:
        """Where the case's chain ends, from chain_heads; None for a case never appended to."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT last_seq, last_hash FROM chain_heads WHERE complaint_id = $1", complaint_id
            )
        return None if row is None else ChainHead(complaint_id, row["last_seq"], row["last_hash"])

    async def verify(self, complaint_id: str) -> ChainBreak | None:
        """Recompute the case's hash chain from the stored content and compare its end with the head."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
            rows = await conn.fetch(
                """SELECT seq, payload::text AS payload, prev_hash, hash FROM complaint_events
                   WHERE complaint_id = $1 ORDER BY seq""",
                complaint_id,
            )
            head = await conn.fetchrow(
                "SELECT last_seq, last_hash FROM chain_heads WHERE complaint_id = $1", complaint_id
            )
        return find_chain_break(complaint_id, rows) or check_head(
            complaint_id, rows, head["last_seq"] if head else None, head["last_hash"] if head else None
        )

    # --- the auditors' reads: stored form, links and heads ----------------------------------------

    async def chain(self, complaint_id: str) -> StoredChain:
        """The case's stored events with their payloads opened, and its head, in one snapshot."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
            rows = await conn.fetch(f"{_LINKS} WHERE complaint_id = $1 ORDER BY seq", complaint_id)
            head = await conn.fetchrow(
                "SELECT last_seq, last_hash FROM chain_heads WHERE complaint_id = $1", complaint_id
            )
            opened = await self._vault.unseal(conn, [json.loads(row["payload"]) for row in rows])
        return StoredChain(
            complaint_id,
            [_link(row, data) for row, data in zip(rows, opened, strict=True)],
            None if head is None else ChainHead(complaint_id, head["last_seq"], head["last_hash"]),
        )

    async def chains(self) -> AsyncIterator[StoredChain]:
        """Every case's chain and head, streamed case by case from one snapshot (memory holds one case)."""
        async with self._pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
            current: str | None = None
            links: list[ChainLink] = []
            head: ChainHead | None = None
            async for row in conn.cursor(
                """SELECT e.complaint_id, e.seq, e.type, e.version, e.occurred_at, e.actor_id, e.actor_role,
                           e.payload::text AS payload, e.prev_hash, e.hash, e.recorded_at,
                           h.last_seq AS head_seq, h.last_hash AS head_hash
                      FROM complaint_events e LEFT JOIN chain_heads h ON h.complaint_id = e.complaint_id
                     ORDER BY e.complaint_id, e.seq""",
                prefetch=2000,
            ):
                if row["complaint_id"] != current:
                    if current is not None:
                        yield StoredChain(current, links, head)
                    current, links = row["complaint_id"], []
                    head = None if row["head_seq"] is None else ChainHead(current, row["head_seq"], row["head_hash"])
                links.append(_link(row, None))
            if current is not None:
                yield StoredChain(current, links, head)
            async for row in conn.cursor(
                """SELECT h.complaint_id, h.last_seq, h.last_hash FROM chain_heads h
                    WHERE h.last_seq > 0
                      AND NOT EXISTS (SELECT 1 FROM complaint_events e WHERE e.complaint_id = h.complaint_id)
                    ORDER BY h.complaint_id"""
            ):
                yield StoredChain(
                    row["complaint_id"], [], ChainHead(row["complaint_id"], row["last_seq"], row["last_hash"])
                )

    async def events_of_types(
        self, types: Sequence[str], complaint_ids: Sequence[str] | None = None
    ) -> list[tuple[str, ChainLink]]:
        """(case, stored event) of every event of these types, of these cases if given, by case and seq."""
        rows = await self._pool.fetch(
            f"""{_LINKS} WHERE type = ANY($1::text[]) AND ($2::text[] IS NULL OR complaint_id = ANY($2::text[]))
                ORDER BY complaint_id, seq""",
            list(types),
            None if complaint_ids is None else list(complaint_ids),
        )
        return [(row["complaint_id"], _link(row, None)) for row in rows]

    async def event_count(self, complaint_id: str) -> int:
        """How many events the case has."""
        count: int = await self._pool.fetchval(
            "SELECT count(*) FROM complaint_events WHERE complaint_id = $1", complaint_id
        )
        return count


async def _lock_head_and_snapshot(conn: asyncpg.Connection, complaint_id: str) -> tuple[int, str, str | None]:
    """The case's chain head (created empty first if missing) and fold snapshot, both locked."""
    row = await conn.fetchrow(_LOCK_HEAD_AND_SNAPSHOT, complaint_id)
    if row["head"] is None:
        await conn.execute("INSERT INTO chain_heads (complaint_id) VALUES ($1) ON CONFLICT DO NOTHING", complaint_id)
        row = await conn.fetchrow(_LOCK_HEAD_AND_SNAPSHOT, complaint_id)
    last_seq, last_hash = row["head"]
    snapshot_seq, snapshot = row["snapshot"] or (0, None)
    if snapshot_seq != last_seq:
        # The statement waited on the head for another append, and a read-model row that append created is not
        # in the snapshot the statement began with: a statement of its own sees it (the head and the read model
        # move together, so their seqs differ only then).
        snapshot = await conn.fetchval(
            "SELECT state::text FROM complaints WHERE complaint_id = $1 FOR UPDATE", complaint_id
        )
    return last_seq, last_hash, snapshot


_LINKS = """SELECT complaint_id, seq, type, version, occurred_at, actor_id, actor_role, payload::text AS payload,
                   prev_hash, hash, recorded_at FROM complaint_events"""


def _link(row: asyncpg.Record, opened: object) -> ChainLink:
    return model_from_row(ChainLink, row, opened=opened if isinstance(opened, dict) else None)


__all__ = [
    "AppendResult",
    "ChainBreak",
    "EventConflict",
    "EventGap",
    "EventStoreError",
    "PostgresEventStore",
    "StoredEvent",
    "find_chain_break",
]
