"""The event-store port's contract, held by PostgresEventStore (real PostgreSQL) and InMemoryEventStore.

Idempotent append, EventConflict, EventGap, two writers racing on one stream, and chain verification.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

import asyncpg
import pytest
import pytest_asyncio

from domain import events as ev
from domain.hashing import GENESIS_HASH
from ports.event_store import EventConflict, EventGap, EventStore
from store.event_store import PostgresEventStore
from tests.audit.conftest import AuditDb
from tests.domain.factories import AGENT, Stream
from tests.fakes.event_store import InMemoryEventStore

Tamper = Callable[[str, int, dict[str, object]], Awaitable[None]]


@dataclass
class Subject:
    store: EventStore
    tamper: Tamper  # change a stored payload behind the store's back


@pytest_asyncio.fixture(params=["postgres", "memory"])
async def subject(request: pytest.FixtureRequest, audit_db: AuditDb) -> AsyncIterator[Subject]:
    # The fresh database is made for both (an async fixture cannot be asked for conditionally); the fake
    # never touches it.
    if request.param == "memory":
        fake = InMemoryEventStore()

        async def tamper_memory(complaint_id: str, seq: int, payload: dict[str, object]) -> None:
            fake.tamper(complaint_id, seq, payload)

        yield Subject(fake, tamper_memory)
        return
    db = audit_db

    async def tamper_postgres(complaint_id: str, seq: int, payload: dict[str, object]) -> None:
        conn = await asyncpg.connect(db.url)
        try:
            await conn.execute("SET session_replication_role = replica")  # the append-only trigger off
            await conn.execute(
                "UPDATE complaint_events SET payload = $3::jsonb WHERE complaint_id = $1 AND seq = $2",
                complaint_id,
                seq,
                json.dumps(payload),
            )
        finally:
            await conn.close()

    yield Subject(PostgresEventStore(db.pool), tamper_postgres)


def opening(complaint_id: str) -> tuple[Stream, list[ev.Event]]:
    stream = Stream(complaint_id)
    events: list[ev.Event] = [
        stream.filed(),
        stream.next(ev.ComplaintAcknowledged, after=timedelta(minutes=1), assignee=AGENT.id, message="on it"),
    ]
    return stream, events


def note(stream: Stream, text: str) -> ev.Event:
    return stream.next(ev.NoteAdded, after=timedelta(minutes=1), actor=AGENT, text=text)


async def test_appended_events_load_back_in_order_with_their_head(subject: Subject) -> None:
    _, events = opening("CASE-C1")
    result = await subject.store.append("CASE-C1", events)
    assert (result.appended, result.already_stored, result.last_seq) == (2, 0, 2)
    assert await subject.store.load("CASE-C1") == events
    head = await subject.store.head("CASE-C1")
    assert head is not None and (head.last_seq, head.last_hash) == (2, result.last_hash)
    state = await subject.store.state("CASE-C1")
    assert state is not None and state.last_seq == 2
    assert await subject.store.head("CASE-NONE") is None
    assert await subject.store.load("CASE-NONE") == []


async def test_an_append_sent_again_writes_nothing_twice(subject: Subject) -> None:
    stream, events = opening("CASE-C2")
    first = await subject.store.append("CASE-C2", events)
    again = await subject.store.append("CASE-C2", events)
    assert (again.appended, again.already_stored) == (0, 2)
    assert (again.last_seq, again.last_hash) == (first.last_seq, first.last_hash)
    # Partly stored, partly new: the stored part is skipped, the new part appended.
    more = note(stream, "called back")
    mixed = await subject.store.append("CASE-C2", [events[1], more])
    assert (mixed.appended, mixed.already_stored, mixed.last_seq) == (1, 1, 3)
    assert len(await subject.store.load("CASE-C2")) == 3


async def test_a_taken_seq_with_other_content_is_an_event_conflict_and_writes_nothing(subject: Subject) -> None:
    stream, events = opening("CASE-C3")
    await subject.store.append("CASE-C3", events)
    other = events[1].model_copy(update={"message": "something else"})
    with pytest.raises(EventConflict):
        await subject.store.append("CASE-C3", [other, note(stream, "would be new")])
    assert await subject.store.load("CASE-C3") == events
    head = await subject.store.head("CASE-C3")
    assert head is not None and head.last_seq == 2


async def test_events_that_do_not_continue_the_stream_are_an_event_gap(subject: Subject) -> None:
    stream, events = opening("CASE-C4")
    with pytest.raises(EventGap):
        await subject.store.append("CASE-C4", events[1:])  # starts at 2 on an empty stream
    await subject.store.append("CASE-C4", events)
    note(stream, "skipped")  # seq 3, never sent
    with pytest.raises(EventGap):
        await subject.store.append("CASE-C4", [note(stream, "seq 4 without 3")])
    assert len(await subject.store.load("CASE-C4")) == 2


async def test_two_writers_on_one_stream_exactly_one_wins_each_seq(subject: Subject) -> None:
    stream, events = opening("CASE-C5")
    await subject.store.append("CASE-C5", events)
    for round_ in range(3):
        seq = stream.seq
        mine = note(stream, f"writer A, round {round_}")
        stream.seq = seq  # the other writer builds the same next seq
        theirs = note(stream, f"writer B, round {round_}")
        outcomes = await asyncio.gather(
            subject.store.append("CASE-C5", [mine]),
            subject.store.append("CASE-C5", [theirs]),
            return_exceptions=True,
        )
        conflicts = [o for o in outcomes if isinstance(o, EventConflict)]
        wins = [o for o in outcomes if not isinstance(o, BaseException) and o.appended == 1]
        assert (len(wins), len(conflicts)) == (1, 1), outcomes
        stored = (await subject.store.load("CASE-C5"))[-1]
        assert stored.seq == seq + 1 and stored in (mine, theirs)
    assert [e.seq for e in await subject.store.load("CASE-C5")] == [1, 2, 3, 4, 5]
    assert await subject.store.verify("CASE-C5") is None


async def test_the_same_first_event_from_two_writers_is_stored_once(subject: Subject) -> None:
    _, events = opening("CASE-C6")
    outcomes = await asyncio.gather(
        subject.store.append("CASE-C6", events), subject.store.append("CASE-C6", events)
    )
    assert sorted(o.appended for o in outcomes) == [0, 2]
    assert await subject.store.load("CASE-C6") == events


async def test_the_chain_links_every_event_and_verifies(subject: Subject) -> None:
    stream, events = opening("CASE-C7")
    await subject.store.append("CASE-C7", events)
    await subject.store.append("CASE-C7", [note(stream, "one more")])
    stored = await subject.store.load_stored("CASE-C7")
    assert stored[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in pairwise(stored))
    head = await subject.store.head("CASE-C7")
    assert head is not None and head.last_hash == stored[-1].hash
    assert await subject.store.verify("CASE-C7") is None


async def test_a_changed_stored_event_breaks_the_chain_at_its_seq(subject: Subject) -> None:
    stream, events = opening("CASE-C8")
    await subject.store.append("CASE-C8", [*events, note(stream, "the original note")])
    stored = await subject.store.load_stored("CASE-C8")
    forged = json.loads(stored[2].stored)
    forged["text"] = "a different note"
    await subject.tamper("CASE-C8", 3, forged)
    broken = await subject.store.verify("CASE-C8")
    assert broken is not None and (broken.complaint_id, broken.seq) == ("CASE-C8", 3)
    assert "does not match its hash" in broken.problem


async def test_the_auditors_reads_give_the_stored_chain_and_its_head(subject: Subject) -> None:
    stream, events = opening("CASE-C9")
    await subject.store.append("CASE-C9", [*events, note(stream, "for the auditors")])
    _, others = opening("CASE-C10")
    await subject.store.append("CASE-C10", others)
    chain = await subject.store.chain("CASE-C9")
    assert [link.seq for link in chain.links] == [1, 2, 3]
    assert chain.head is not None and chain.head.last_hash == chain.links[-1].hash
    loaded = await subject.store.load("CASE-C9")
    assert [link.opened["type"] for link in chain.links if link.opened] == [event.type for event in loaded]
    every = {c.complaint_id: c async for c in subject.store.chains()}
    assert {case: len(c.links) for case, c in every.items()} == {"CASE-C10": 2, "CASE-C9": 3}
    notes = await subject.store.events_of_types(["NoteAdded"])
    assert [(case, link.seq) for case, link in notes] == [("CASE-C9", 3)]
    assert (await subject.store.event_count("CASE-C9"), await subject.store.event_count("CASE-NONE")) == (3, 0)
