"""Free text survives the event store intact: what the customer said is what the auditor reads.

Any text a customer can type (SQL, markup, emoji, control characters, 4000 characters of it) goes
through the real PostgreSQL event store and comes back identical, with its hash chain intact.
"""

from __future__ import annotations

import uuid

import asyncpg
from hypothesis import HealthCheck, given, settings

from domain import events as ev
from domain.intake import MAX_DESCRIPTION_CHARS
from store.event_store import PostgresEventStore
from tests.domain.factories import AGENT, Stream
from tests.properties.strategies import free_text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(description=free_text(MAX_DESCRIPTION_CHARS), name=free_text(50), note=free_text(4000))
async def test_free_text_round_trips_through_the_event_store(
    pool: asyncpg.Pool, description: str, name: str, note: str
) -> None:
    stream = Stream(f"PROP-TEXT-{uuid.uuid4().hex[:12]}")
    events = [
        stream.filed(description=description, customer_name=name),
        stream.next(ev.NoteAdded, actor=AGENT, text=note),
        stream.next(ev.CustomerAnswered, question_id="q'; --", answer="yes", comment=note[:2000]),
    ]
    store = PostgresEventStore(pool)
    await store.append(stream.complaint_id, events)
    loaded = await store.load(stream.complaint_id)
    assert loaded == events
    filed, noted = loaded[0], loaded[1]
    assert isinstance(filed, ev.ComplaintFiled) and isinstance(noted, ev.NoteAdded)
    assert filed.description == description and noted.text == note
    assert await store.verify(stream.complaint_id) is None
    # Appending the same events again (a retried save) changes nothing.
    again = await store.append(stream.complaint_id, events)
    assert (again.appended, again.already_stored) == (0, 3)
