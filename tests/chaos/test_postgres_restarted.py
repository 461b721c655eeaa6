"""PostgreSQL crashes (`pg_ctl stop -m immediate`) and comes back while cases are open.

The cluster is a pgserver of the test's own in a temporary folder, never the machine's shared
server. While it is down, event saves and billing reads fail; the activities retry with backoff
and succeed once it is back: every case finishes with all its events, each stored once.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import asyncpg
from temporalio.client import WorkflowHandle

from audit.temporal_history import APPEND_EVENTS_ACTIVITY, SAVE_AND_NOTIFY_ACTIVITY, STEPS_CARRYING_EVENTS
from client.api import ComplaintClient
from domain.playbooks.validity_shortened import RESTORE_NOW, VALIDITY_REMEDY_QUESTION
from store.event_store import PostgresEventStore
from tests.chaos.cases import (
    CONFIRM,
    activity_attempts,
    answer_when_asked,
    eventually,
    forwarding_intake,
    of_type,
    started_activity,
    validity_intake,
)
from tests.chaos.conftest import SpawnWorker
from tests.chaos.partner import ChaosPartner, unicom_number
from tests.chaos.processes import EmbeddedPostgres

# The activities that save a case's events: on their own, or riding with a notice or a step.
WRITERS = {APPEND_EVENTS_ACTIVITY, SAVE_AND_NOTIFY_ACTIVITY, *STEPS_CARRYING_EVENTS}


async def saves_retrying(*handles: WorkflowHandle[Any, Any]) -> bool:
    """Whether each case has a save that failed at least once and waits to be tried again."""
    for handle in handles:
        pending = (await handle.describe()).raw_description.pending_activities
        if not any(p.activity_type.name in WRITERS and p.attempt > 1 for p in pending):
            return False
    return True


async def test_cases_carry_on_when_postgres_restarts_mid_case(
    client: ComplaintClient,
    spawn_worker: SpawnWorker,
    chaos_partner: ChaosPartner,
    embedded_postgres: EmbeddedPostgres,
) -> None:
    number = unicom_number(random.Random())
    await chaos_partner.arm(number)
    await chaos_partner.faults(latency_ms=2000)
    await spawn_worker(database_url=embedded_postgres.uri)  # the fixture migrated and seeded it

    forwarding = forwarding_intake(number)
    forwarding_handle = await client.file(forwarding)
    await eventually(
        lambda: started_activity(forwarding_handle, "cancel_forwarding"),
        timeout=30,
        what="the cancel never started",
    )
    # Down while the partner call is out: its result must be saved once the database is back.
    await asyncio.to_thread(embedded_postgres.stop, "immediate")
    validity = validity_intake()
    # Filed while the database is down, without waiting for its links: the case cannot look them up before
    # the database is back, and the wait (10 s) would only hold the outage open.
    validity_handle = await client.file(validity, wait_for_links=0)
    # Down until both cases felt it (a save failed and waits for its retry), however slow the machine.
    await eventually(
        lambda: saves_retrying(forwarding_handle, validity_handle),
        timeout=60,
        what="the saves never failed while the database was down",
    )
    await asyncio.to_thread(embedded_postgres.start_again)

    await answer_when_asked(client, validity.complaint_id, VALIDITY_REMEDY_QUESTION, RESTORE_NOW, timeout=60)
    await answer_when_asked(client, forwarding.complaint_id, CONFIRM, "yes", timeout=60)
    await answer_when_asked(client, validity.complaint_id, CONFIRM, "yes", timeout=60)
    forwarding_outcome = await asyncio.wait_for(forwarding_handle.result(), 60)
    validity_outcome = await asyncio.wait_for(validity_handle.result(), 60)

    assert embedded_postgres.restarts == 1
    assert (forwarding_outcome.outcome, forwarding_outcome.close_reason) == (
        "forwarding_cancelled",
        "confirmed",
    )
    assert (validity_outcome.outcome, validity_outcome.close_reason) == ("validity_restored", "confirmed")
    # The outage was felt: saves (on their own, or riding with a step or a notice) failed and were retried until
    # the database came back.
    for handle in (forwarding_handle, validity_handle):
        attempts = await activity_attempts(handle, WRITERS)
        assert max(attempts) > 1, attempts

    pool = await asyncpg.create_pool(embedded_postgres.uri, min_size=1, max_size=2)
    try:
        store = PostgresEventStore(pool)
        for intake, outcome in ((forwarding, forwarding_outcome), (validity, validity_outcome)):
            events = await store.load(intake.complaint_id)
            assert [e.seq for e in events] == list(range(1, outcome.events + 1))
            assert await store.verify(intake.complaint_id) is None
        events = await store.load(forwarding.complaint_id)
        assert [c.effective for c in of_type(events, "PartnerRequestConfirmed")] == [True]
        notices = await pool.fetch(
            "SELECT action FROM boss.actions WHERE starts_with(idempotency_key, $1)",
            f"{forwarding.complaint_id}:",
        )
        assert [row["action"] for row in notices] == ["cancel_number_change_notice"]
        ledger = await pool.fetchval(
            "SELECT count(*) FROM boss.adjustment_ledger WHERE complaint_id = $1", validity.complaint_id
        )
        assert ledger == 1
    finally:
        await pool.close()
    assert (await chaos_partner.stats())["by_msisdn"][number]["effective"] == 1
