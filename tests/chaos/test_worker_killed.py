"""A worker process killed with SIGKILL in the middle of a side effect; a new one finishes the cases.

Two cases are caught at once by one kill (each retry waits out the steps' 10 s heartbeat timeout,
activities/liveness.py, so one kill keeps the suite short):

- forwarding_cancel, inside the partner carrier's cancel: the sandbox answers after 3 s of latency,
  so the request is at the partner when the worker dies. The partner applies it; nobody hears the
  answer; the retry (same request key) must learn the first answer and not cancel again.
- validity_shortened, inside the adjustment: the test holds the idempotency key's advisory lock,
  so `apply_adjustment` is blocked inside its transaction when the worker dies. The retry must
  write the ledger row exactly once.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg

from client.api import ComplaintClient
from domain.playbooks.validity_shortened import RESTORE_NOW, VALIDITY_REMEDY_QUESTION
from tests.chaos.cases import (
    CONFIRM,
    action_rows,
    activity_attempts,
    answer_when_asked,
    assert_chain_intact,
    eventually,
    forwarding_intake,
    ledger_rows,
    of_type,
    started_activity,
    stored_events,
    validity_intake,
)
from tests.chaos.conftest import SpawnWorker
from tests.chaos.partner import ChaosPartner, unicom_number

KEY_LOCK_CLASS = 10086  # adapters.billing.adjustments._KEY_LOCK_CLASS: the class of the idempotency-key locks


async def _waiting_on_advisory_lock(pool: asyncpg.Pool) -> bool:
    count = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    return bool(count)


async def test_a_worker_killed_mid_call_leaves_one_cancel_and_one_ledger_row(
    client: ComplaintClient,
    spawn_worker: SpawnWorker,
    chaos_partner: ChaosPartner,
    chaos_pool: asyncpg.Pool,
) -> None:
    partner_msisdn = unicom_number(random.Random())
    await chaos_partner.arm(partner_msisdn)
    await chaos_partner.faults(latency_ms=3000)
    first = await spawn_worker(name="first")

    forwarding = forwarding_intake(partner_msisdn)
    validity = validity_intake()
    adjustment_key = f"{validity.complaint_id}:r0:adj-1"  # Case.key("adj-1") on the first run
    forwarding_handle = await client.file(forwarding)
    validity_handle = await client.file(validity)

    # Block the adjustment inside its transaction: the test holds its key's lock.
    blocker = await chaos_pool.acquire()
    try:
        await blocker.execute("SELECT pg_advisory_lock($1, hashtext($2))", KEY_LOCK_CLASS, adjustment_key)
        await answer_when_asked(client, validity.complaint_id, VALIDITY_REMEDY_QUESTION, RESTORE_NOW)
        await eventually(
            lambda: started_activity(forwarding_handle, "cancel_forwarding"),
            timeout=30,
            what="the partner cancel never started",
        )
        await eventually(
            lambda: started_activity(validity_handle, "apply_adjustment"),
            timeout=30,
            what="the adjustment never started",
        )
        await eventually(
            lambda: _waiting_on_advisory_lock(chaos_pool),
            timeout=10,
            what="the adjustment never reached its lock",
        )
        await asyncio.sleep(0.5)  # the cancel request is now inside the partner's 3 s of latency
        await first.kill()
    finally:
        await blocker.execute("SELECT pg_advisory_unlock_all()")
        await chaos_pool.release(blocker)

    await chaos_partner.faults(latency_ms=0)
    await spawn_worker(name="second")
    await answer_when_asked(client, forwarding.complaint_id, CONFIRM, "yes", timeout=120)
    await answer_when_asked(client, validity.complaint_id, CONFIRM, "yes", timeout=120)
    forwarding_outcome = await asyncio.wait_for(forwarding_handle.result(), 60)
    validity_outcome = await asyncio.wait_for(validity_handle.result(), 60)

    # The kills really landed mid-call: each side effect needed a second attempt.
    assert await activity_attempts(forwarding_handle, "cancel_forwarding") == [2]
    assert await activity_attempts(validity_handle, "apply_adjustment") == [2]

    # forwarding_cancel: finished, and the partner saw one effective cancel.
    assert (forwarding_outcome.status, forwarding_outcome.close_reason) == ("closed", "confirmed")
    assert forwarding_outcome.outcome == "forwarding_cancelled"
    stats = (await chaos_partner.stats())["by_msisdn"][partner_msisdn]
    assert stats["effective"] == 1, stats
    events = await stored_events(chaos_pool, forwarding.complaint_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(of_type(events, "PartnerRequestSent")) == 1
    confirmed = of_type(events, "PartnerRequestConfirmed")
    assert [c.effective for c in confirmed] == [True]
    notices = await action_rows(chaos_pool, f"{forwarding.complaint_id}:")
    assert [row["action"] for row in notices] == ["cancel_number_change_notice"]
    await assert_chain_intact(chaos_pool, forwarding.complaint_id)

    # validity_shortened: finished, one ledger row, one AdjustmentApplied.
    assert (validity_outcome.status, validity_outcome.outcome) == ("closed", "validity_restored")
    ledger = await ledger_rows(chaos_pool, validity.complaint_id)
    assert [row["idempotency_key"] for row in ledger] == [adjustment_key]
    events = await stored_events(chaos_pool, validity.complaint_id)
    applied = of_type(events, "AdjustmentApplied")
    assert [(a.idempotency_key, a.effective) for a in applied] == [(adjustment_key, True)]
    await assert_chain_intact(chaos_pool, validity.complaint_id)
