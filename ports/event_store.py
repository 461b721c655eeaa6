"""The event-store port: ordered, idempotent, hash-chained streams of one case's events.

`store/event_store.py` serves it from PostgreSQL; `tests/fakes/event_store.py` from memory. Both pass
the one contract suite (tests/contracts/test_event_store_contract.py), so a workflow test may use the
fake where the test is about orchestration.

The rules every adapter keeps:
- an append of events already stored with the same content is a no-op (a retried append writes nothing);
- the same seq with different content raises `EventConflict`, and nothing of that append is written;
- events that do not continue the stream where it ends raise `EventGap`;
- two writers appending the same next seq to one stream: exactly one wins, the other gets `EventConflict`
  (or finds its identical events stored);
- each stored event links to the one before by `chain_hash(prev_hash, stored payload)`, and the chain
  head (last seq, last hash) is kept apart from any read model.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from domain.events import Event
from domain.hashing import GENESIS_HASH, chain_hash
from domain.state import ComplaintState


class RowLike(Protocol):
    """A stored event read by column name: a database row, a dict, or a ChainLink."""

    def __getitem__(self, name: str, /) -> Any: ...


class EventStoreError(Exception):
    """An append the store refuses."""


class EventConflict(EventStoreError):
    """An event with a sequence number already taken by different content."""


class EventGap(EventStoreError):
    """Events that do not continue the stream where it ends."""


@dataclass(frozen=True)
class ArchiveTicket:
    """Which run to archive once the case's stream has ended, and which task queue's archiver does it."""

    run_id: str
    task_queue: str


@dataclass(frozen=True)
class AppendResult:
    """What an append did: how many events it wrote, how many it found stored, and the head after it."""

    appended: int
    already_stored: int
    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class ChainHead:
    """Where a case's chain ends: kept apart from the read model, and locked by every append."""

    complaint_id: str
    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back, with its place in the chain."""

    event: Event  # personal values opened, or `[erased]`
    prev_hash: str
    hash: str
    recorded_at: datetime
    stored: str = ""  # the payload as stored (personal values sealed): what the hash covers


@dataclass(frozen=True)
class ChainBreak:
    """The first link of a case's chain that does not hold, and why."""

    complaint_id: str
    seq: int
    problem: str


@dataclass(frozen=True)
class ChainLink:
    """One stored event as the auditors read it: its columns, the payload as stored, and opened."""

    seq: int
    type: str
    version: int
    occurred_at: datetime
    actor_id: str
    actor_role: str
    payload: str  # as stored (personal values sealed): what the hash covers
    prev_hash: str
    hash: str
    recorded_at: datetime
    opened: dict[str, Any] | None = None  # personal values opened (or `[erased]`), when asked for

    def __getitem__(self, name: str) -> Any:
        """Read like a row (`link["seq"]`), so the chain checks take links and rows alike."""
        return getattr(self, name)


@dataclass(frozen=True)
class StoredChain:
    """A case's stored events, oldest first, and its chain head, read in one snapshot."""

    complaint_id: str
    links: list[ChainLink]
    head: ChainHead | None


class EventStore(Protocol):
    """What workflows' activities, audit/ and cli/ may ask of the event store."""

    async def append(
        self, complaint_id: str, events: Sequence[Event], *, archive: ArchiveTicket | None = None
    ) -> AppendResult:
        """Append consecutive events to the case's stream, all or nothing.

        Raises:
            EventConflict: a seq is already stored with different content.
            EventGap: the events do not continue the stream where it ends.
        """
        ...

    async def load(self, complaint_id: str, *, until: datetime | None = None) -> list[Event]:
        """The case's events in seq order; with `until`, those that happened at or before it."""
        ...

    async def load_stored(self, complaint_id: str, *, until: datetime | None = None) -> list[StoredEvent]:
        """The case's events with their chain links, in seq order."""
        ...

    async def state(self, complaint_id: str, *, as_of: datetime | None = None) -> ComplaintState | None:
        """The case folded from its events (as it stood at `as_of`, if given); None for no events."""
        ...

    async def head(self, complaint_id: str) -> ChainHead | None:
        """Where the case's chain ends, or None for a case never appended to."""
        ...

    async def verify(self, complaint_id: str) -> ChainBreak | None:
        """Recompute the chain from the stored content, and check it ends at the head; the first break."""
        ...

    async def chain(self, complaint_id: str) -> StoredChain:
        """The case's stored events with their payloads opened, and its head, in one snapshot."""
        ...

    def chains(self) -> AsyncIterator[StoredChain]:
        """Every case's stored chain (payloads not opened) and head, case by case, in one snapshot.

        A case whose events are all gone still comes, with no links: its head says it existed.
        """
        ...

    async def events_of_types(
        self, types: Sequence[str], complaint_ids: Sequence[str] | None = None
    ) -> list[tuple[str, ChainLink]]:
        """(case, stored event) of every event of these types, of these cases if given, by case and seq."""
        ...

    async def event_count(self, complaint_id: str) -> int:
        """How many events the case has."""
        ...


def find_chain_break(complaint_id: str, rows: Sequence[RowLike]) -> ChainBreak | None:
    """Check the rows (seq, payload text as stored, prev_hash, hash) of one case, in seq order.

    Args:
        complaint_id: the case the rows belong to.
        rows: its stored events, oldest first.

    Returns:
        The first link that does not hold, or None when the chain is whole.
    """
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


def check_head(
    complaint_id: str, rows: Sequence[RowLike], head_seq: int | None, head_hash: str | None
) -> ChainBreak | None:
    """Compare the chain's end with the head recorded for it: events removed from the end show here.

    Args:
        complaint_id: the case.
        rows: its stored events, oldest first.
        head_seq: the recorded head's seq (None: no head recorded).
        head_hash: the recorded head's hash.

    Returns:
        The break, or None when the chain ends where its head says.
    """
    if head_seq is None:
        return None
    last_seq = rows[-1]["seq"] if rows else 0
    last_hash = rows[-1]["hash"] if rows else None
    if head_seq > last_seq:
        missing = f"event {head_seq}" if head_seq == last_seq + 1 else f"events {last_seq + 1}-{head_seq}"
        return ChainBreak(
            complaint_id, last_seq + 1, f"{missing} missing: the chain ends at {last_seq}, its head at {head_seq}"
        )
    if head_seq < last_seq:
        return ChainBreak(
            complaint_id, head_seq + 1, f"the case's recorded head is event {head_seq}, the chain goes on to {last_seq}"
        )
    if head_seq and head_hash != last_hash:
        return ChainBreak(complaint_id, last_seq, "its hash differs from the case's recorded head hash")
    return None
