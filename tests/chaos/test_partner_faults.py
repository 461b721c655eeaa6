"""The partner carrier misbehaves: transient 503s, lost answers, latency, and refusals.

Transient trouble is retried with backoff until it succeeds, and the cancel happens once; a refusal
(the partner does not recognise the holder's ID number) is not retried: it ends in a recorded
decision and an outcome the customer is told.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg

from client.api import ComplaintClient
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER
from tests.chaos.cases import (
    CONFIRM,
    activity_attempts,
    activity_runs,
    answer_when_asked,
    assert_chain_intact,
    forwarding_intake,
    of_type,
    stored_events,
)
from tests.chaos.conftest import SpawnWorker
from tests.chaos.partner import ChaosPartner, unicom_number


async def test_transient_failures_and_a_lost_answer_are_retried_and_cancel_once(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_partner: ChaosPartner, chaos_pool: asyncpg.Pool
) -> None:
    number = unicom_number(random.Random())
    await chaos_partner.arm(number)
    # Two 503s before the partner does anything, then one answer lost after it cancelled.
    await chaos_partner.faults(fail_next=2, lose_next=1, latency_ms=200)
    await spawn_worker()
    intake = forwarding_intake(number)
    handle = await client.file(intake)
    await answer_when_asked(client, intake.complaint_id, CONFIRM, "yes", timeout=60)
    outcome = await asyncio.wait_for(handle.result(), 30)

    assert (outcome.outcome, outcome.close_reason) == ("forwarding_cancelled", "confirmed")
    assert chaos_partner.faults_injected == 3
    assert await activity_attempts(handle, "cancel_forwarding") == [4]
    stats = (await chaos_partner.stats())["by_msisdn"][number]
    # The lost answer's request and the retry that learned of it; only the first one cancelled.
    assert stats == {"requests": 2, "effective": 1}
    events = await stored_events(chaos_pool, intake.complaint_id)
    assert [c.effective for c in of_type(events, "PartnerRequestConfirmed")] == [True]
    await assert_chain_intact(chaos_pool, intake.complaint_id)
    # Backoff, not a hot loop: the retries came 1 s, 2 s and 4 s apart.
    [run] = await activity_runs(handle, "cancel_forwarding")
    assert run.waited.total_seconds() >= 6.5, run


async def test_a_partner_refusing_the_id_number_ends_in_a_decision_not_endless_retries(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_partner: ChaosPartner, chaos_pool: asyncpg.Pool
) -> None:
    number = unicom_number(random.Random())
    # The partner holds the number under another ID number: our BOSS check passes, theirs fails.
    await chaos_partner.arm(number, id_number=STRANGER_ID_NUMBER)
    await chaos_partner.faults(fail_next=1, error_rate=0.0)  # one transient failure first
    await spawn_worker()
    intake = forwarding_intake(number)
    handle = await client.file(intake)
    await answer_when_asked(client, intake.complaint_id, CONFIRM, "no", timeout=60)
    outcome = await asyncio.wait_for(handle.result(), 30)

    assert outcome.outcome == "partner_refused"
    assert outcome.close_reason == "not_satisfied"  # and escalated: the customer is not helped yet
    # One retry for the 503, then the refusal stopped it: not retried.
    assert await activity_attempts(handle, "cancel_forwarding") == [2]
    events = await stored_events(chaos_pool, intake.complaint_id)
    failed = of_type(events, "PartnerRequestFailed")
    assert len(failed) == 1 and "id_number does not match" in failed[0].reason
    assert (
        STRANGER_ID_NUMBER not in failed[0].reason and FORWARDING_CUSTOMER.id_number not in failed[0].reason
    )
    assert not of_type(events, "PartnerRequestConfirmed")
    assert [e.outcome for e in of_type(events, "ComplaintResolved")] == ["partner_refused"]
    assert of_type(events, "CaseEscalated")
    stats = (await chaos_partner.stats())["by_msisdn"][number]
    assert stats == {"requests": 1, "effective": 0}


async def test_a_wrong_id_number_is_stopped_by_our_own_check_before_the_partner(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_partner: ChaosPartner, chaos_pool: asyncpg.Pool
) -> None:
    number = unicom_number(random.Random())
    await chaos_partner.arm(number)
    await spawn_worker()
    intake = forwarding_intake(number, id_number=STRANGER_ID_NUMBER)
    handle = await client.file(intake)
    await answer_when_asked(client, intake.complaint_id, CONFIRM, "yes", timeout=60)
    outcome = await asyncio.wait_for(handle.result(), 30)

    assert outcome.outcome == "identity_not_verified"
    events = await stored_events(chaos_pool, intake.complaint_id)
    assert len(of_type(events, "IdentityRejected")) == 1
    assert not of_type(events, "PartnerRequestSent")
    assert number not in (await chaos_partner.stats())["by_msisdn"]
