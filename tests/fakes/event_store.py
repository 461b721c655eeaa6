"""The event-store port in memory: the same rules as store/event_store.py, no sealing, no read model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from itertools import pairwise

from domain.events import Event, parse_event
from domain.hashing import GENESIS_HASH, canonical_json, chain_hash
from domain.state import ComplaintState, fold
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


class InMemoryEventStore:
    """Streams kept as stored rows (payload text and links), one lock per stream like the row lock."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict[str, object]]] = {}
        self._heads: dict[str, ChainHead] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.archive_tickets: list[tuple[str, ArchiveTicket]] = []

    async def append(
        self, complaint_id: str, events: Sequence[Event], *, archive: ArchiveTicket | None = None
    ) -> AppendResult:
        """Append consecutive events, all or nothing (see ports.event_store.EventStore.append)."""
        ordered = sorted(events, key=lambda event: event.seq)
        for event in ordered:
            if event.complaint_id != complaint_id:
                raise EventStoreError(f"event {event.seq} belongs to {event.complaint_id}, not {complaint_id}")
        async with self._locks.setdefault(complaint_id, asyncio.Lock()):
            # A yield while holding the lock, as a database round trip would: a concurrent writer
            # really does queue here rather than finish before the other starts.
            await asyncio.sleep(0)
            rows = self._rows.setdefault(complaint_id, [])
            head = self._heads.get(complaint_id, ChainHead(complaint_id, 0, GENESIS_HASH))
            stored = [event for event in ordered if event.seq <= head.last_seq]
            fresh = [event for event in ordered if event.seq > head.last_seq]
            for event in stored:
                if json.loads(str(rows[event.seq - 1]["payload"])) != event.model_dump(mode="json"):
                    raise EventConflict(
                        f"event {event.seq} of case {complaint_id} is already stored with different content"
                    )
            if not fresh:
                return AppendResult(0, len(stored), head.last_seq, head.last_hash)
            if fresh[0].seq != head.last_seq + 1 or any(b.seq != a.seq + 1 for a, b in pairwise(fresh)):
                raise EventGap(
                    f"case {complaint_id} ends at event {head.last_seq}; got events {[e.seq for e in fresh]}"
                )
            last_hash = head.last_hash
            for event in fresh:
                next_hash = chain_hash(last_hash, event)
                rows.append(
                    {
                        "seq": event.seq,
                        "payload": canonical_json(event),
                        "prev_hash": last_hash,
                        "hash": next_hash,
                        "recorded_at": datetime.now(UTC),
                        "occurred_at": event.at,
                    }
                )
                last_hash = next_hash
            self._heads[complaint_id] = ChainHead(complaint_id, fresh[-1].seq, last_hash)
            state = fold([parse_event(json.loads(str(row["payload"]))) for row in rows])
            if archive is not None and state is not None and not state.is_open:
                self.archive_tickets.append((complaint_id, archive))
            return AppendResult(len(fresh), len(stored), fresh[-1].seq, last_hash)

    async def load(self, complaint_id: str, *, until: datetime | None = None) -> list[Event]:
        """The case's events in order; with `until`, those that happened at or before it."""
        return [stored.event for stored in await self.load_stored(complaint_id, until=until)]

    async def load_stored(self, complaint_id: str, *, until: datetime | None = None) -> list[StoredEvent]:
        """The case's events with their chain links."""
        found = []
        for row in self._rows.get(complaint_id, []):
            occurred_at = row["occurred_at"]
            assert isinstance(occurred_at, datetime)
            if until is not None and occurred_at > until:
                continue
            payload = str(row["payload"])
            recorded_at = row["recorded_at"]
            assert isinstance(recorded_at, datetime)
            found.append(
                StoredEvent(
                    parse_event(json.loads(payload)), str(row["prev_hash"]), str(row["hash"]), recorded_at, payload
                )
            )
        return found

    async def state(self, complaint_id: str, *, as_of: datetime | None = None) -> ComplaintState | None:
        """The case folded from its events."""
        return fold(await self.load(complaint_id, until=as_of))

    async def head(self, complaint_id: str) -> ChainHead | None:
        """Where the case's chain ends."""
        return self._heads.get(complaint_id)

    async def verify(self, complaint_id: str) -> ChainBreak | None:
        """Recompute the chain and compare its end with the head."""
        rows = self._rows.get(complaint_id, [])
        head = self._heads.get(complaint_id)
        return find_chain_break(complaint_id, rows) or check_head(
            complaint_id, rows, head.last_seq if head else None, head.last_hash if head else None
        )

    async def chain(self, complaint_id: str) -> StoredChain:
        """The case's stored events (payloads opened: nothing is sealed here) and its head."""
        return StoredChain(complaint_id, self._links(complaint_id, opened=True), self._heads.get(complaint_id))

    async def chains(self) -> AsyncIterator[StoredChain]:
        """Every case's chain and head, by case id."""
        for complaint_id in sorted(self._heads):
            yield StoredChain(complaint_id, self._links(complaint_id, opened=False), self._heads[complaint_id])

    async def events_of_types(
        self, types: Sequence[str], complaint_ids: Sequence[str] | None = None
    ) -> list[tuple[str, ChainLink]]:
        """(case, stored event) of every event of these types, by case and seq."""
        return [
            (complaint_id, link)
            for complaint_id in sorted(self._rows)
            if complaint_ids is None or complaint_id in complaint_ids
            for link in self._links(complaint_id, opened=False)
            if link.type in types
        ]

    async def event_count(self, complaint_id: str) -> int:
        """How many events the case has."""
        return len(self._rows.get(complaint_id, []))

    def _links(self, complaint_id: str, *, opened: bool) -> list[ChainLink]:
        links = []
        for row in self._rows.get(complaint_id, []):
            payload = str(row["payload"])
            event = parse_event(json.loads(payload))
            recorded_at = row["recorded_at"]
            assert isinstance(recorded_at, datetime)
            links.append(
                ChainLink(
                    seq=event.seq,
                    type=event.type,
                    version=event.version,
                    occurred_at=event.at,
                    actor_id=event.actor.id,
                    actor_role=event.actor.role.value,
                    payload=payload,
                    prev_hash=str(row["prev_hash"]),
                    hash=str(row["hash"]),
                    recorded_at=recorded_at,
                    opened=json.loads(payload) if opened else None,
                )
            )
        return links

    def tamper(self, complaint_id: str, seq: int, payload: dict[str, object]) -> None:
        """Change a stored payload behind the store's back, as someone with table access could."""
        self._rows[complaint_id][seq - 1]["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
