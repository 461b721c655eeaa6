"""The PostgreSQL event store: ordered, idempotent, hash-chained appends with the read model in step.

Personal values are sealed under the customer's key before they are stored (store/pii.py), and the hash
chain covers what is stored: the sealed form. Reads open them again, or give `[erased]` once the key is
destroyed; either way the chain still verifies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import asyncpg

from domain import events as ev
from domain.events import Event, parse_event
from domain.hashing import GENESIS_HASH, canonical_json, chain_hash
from domain.personal_data import same_or_erased
from domain.state import ComplaintState, apply, fold
from domain.upcasting import upcast
from store import archive_queue
from store.archive_queue import ArchiveTicket
from store.pii import CaseKey, PersonalDataVault, default_vault, personal_values_of, unseal_with
from store.projections import UPSERT_PROJECTION, load_head_state, projection_args


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
    event: Event  # personal values opened, or `[erased]`
    prev_hash: str
    hash: str
    recorded_at: datetime
    stored: str = ""  # the payload as stored (personal values sealed): what the hash covers


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
    """Appends and reads complaint event streams. Safe to call again with the same events.

    `vault` holds the master key that opens the customers' keys; callers at the edges pass the one
    built from their settings, others get the one the environment configures.
    """

    def __init__(self, pool: asyncpg.Pool, vault: PersonalDataVault | None = None) -> None:
        self._pool = pool
        self._vault = vault or default_vault()

    @property
    def vault(self) -> PersonalDataVault:
        return self._vault

    @property
    def pool(self) -> asyncpg.Pool:
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
        # The head row is created empty if missing, then locked: concurrent appends to one case
        # queue here instead of racing for the next seq.
        await conn.execute("INSERT INTO complaints (complaint_id) VALUES ($1) ON CONFLICT DO NOTHING", complaint_id)
        head = await conn.fetchrow(
            "SELECT last_seq, last_hash, state::text AS state FROM complaints WHERE complaint_id = $1 FOR UPDATE",
            complaint_id,
        )
        last_seq: int = head["last_seq"]
        last_hash: str = head["last_hash"]
        stored = [event for event in events if event.seq <= last_seq]
        fresh = [event for event in events if event.seq > last_seq]
        key = await self._case_key(conn, complaint_id, events, head["state"])
        await self._check_already_stored(conn, complaint_id, stored, key)
        if not fresh:
            return AppendResult(0, len(stored), last_seq, last_hash)
        if fresh[0].seq != last_seq + 1 or any(b.seq != a.seq + 1 for a, b in pairwise(fresh)):
            raise EventGap(f"case {complaint_id} ends at event {last_seq}; got events {[e.seq for e in fresh]}")
        state = load_head_state(head["state"], key)
        rows = []
        for event in fresh:
            before = state
            state = apply(state, event)
            data = event.model_dump(mode="json")
            # The case's own values (its name, say) are sealed wherever they appear, before and after.
            known = personal_values_of(data) + personal_values_of(state.model_dump())
            if before is not None:
                known += personal_values_of(before.model_dump())
            sealed = key.seal_json(data, *known) if key is not None else data
            next_hash = chain_hash(last_hash, sealed)
            rows.append(
                (
                    complaint_id,
                    event.seq,
                    event.type,
                    event.version,
                    event.at,
                    event.actor.id,
                    event.actor.role.value,
                    canonical_json(sealed),
                    last_hash,
                    next_hash,
                )
            )
            last_hash = next_hash
        await conn.executemany(_INSERT_EVENT, rows)
        assert state is not None
        await conn.execute(UPSERT_PROJECTION, *projection_args(state, last_hash, key))
        if archive is not None and not state.is_open:
            await archive_queue.enqueue(conn, complaint_id, archive)
        return AppendResult(len(fresh), len(stored), state.last_seq, last_hash)

    async def _case_key(
        self, conn: asyncpg.Connection, complaint_id: str, events: Sequence[Event], head_state: str | None
    ) -> CaseKey | None:
        """The key the case is sealed under; created with its first event (or, for a case stored before
        keys existed, from the number its folded state holds)."""
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
        An erased value matches whatever is sent: nothing can tell what it was any more."""
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
