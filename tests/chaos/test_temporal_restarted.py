"""The Temporal dev server killed and restarted on its SQLite file while cases are open.

At the moment of the kill some cases are inside the partner's cancel (slow partner), one waits for
the customer. The worker process stays up and reconnects; every case carries on to its end, and
nothing is done twice.
"""

from __future__ import annotations

import asyncio
import random
import signal

import asyncpg

from client.api import ComplaintClient
from domain.playbooks.validity_shortened import RESTORE_NOW, VALIDITY_REMEDY_QUESTION
from tests.chaos.cases import (
    CONFIRM,
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
from tests.chaos.processes import DevServer

FORWARDING_CASES = 4


async def test_every_open_case_carries_on_after_the_temporal_server_restarts(
    client: ComplaintClient,
    spawn_worker: SpawnWorker,
    chaos_partner: ChaosPartner,
    chaos_pool: asyncpg.Pool,
    temporal_server: DevServer,
) -> None:
    rng = random.Random()
    numbers = [unicom_number(rng) for _ in range(FORWARDING_CASES)]
    for number in numbers:
        await chaos_partner.arm(number)
    await chaos_partner.faults(latency_ms=1500)
    await spawn_worker()

    forwarding = [forwarding_intake(number) for number in numbers]
    validity = validity_intake()
    handles = {intake.complaint_id: await client.file(intake) for intake in [*forwarding, validity]}

    async def cancels_in_flight() -> bool:
        started = [await started_activity(handles[i.complaint_id], "cancel_forwarding") for i in forwarding]
        return sum(started) >= 2

    async def validity_waiting() -> bool:
        view = await client.view(validity.complaint_id)
        return view.state.pending_question is not None

    await eventually(cancels_in_flight, timeout=30, what="no partner cancel in flight")
    await eventually(validity_waiting, timeout=30, what="the validity case never asked the customer")
    starts_before = temporal_server.starts
    await temporal_server.restart(signal.SIGKILL, down_for=2.0)
    assert temporal_server.starts == starts_before + 1

    await answer_when_asked(client, validity.complaint_id, VALIDITY_REMEDY_QUESTION, RESTORE_NOW, timeout=120)
    await asyncio.gather(
        *(
            answer_when_asked(client, i.complaint_id, CONFIRM, "yes", timeout=120)
            for i in [*forwarding, validity]
        )
    )
    outcomes = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles.values())), 90)

    assert all((o.status, o.close_reason) == ("closed", "confirmed") for o in outcomes), outcomes
    stats = (await chaos_partner.stats())["by_msisdn"]
    for intake, number in zip(forwarding, numbers, strict=True):
        assert stats[number]["effective"] == 1, (number, stats[number])
        events = await stored_events(chaos_pool, intake.complaint_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert [c.effective for c in of_type(events, "PartnerRequestConfirmed")] == [True]
        assert of_type(events, "ComplaintClosed")
        await assert_chain_intact(chaos_pool, intake.complaint_id)
    assert len(await ledger_rows(chaos_pool, validity.complaint_id)) == 1
    events = await stored_events(chaos_pool, validity.complaint_id)
    assert len(of_type(events, "AdjustmentApplied")) == 1
    await assert_chain_intact(chaos_pool, validity.complaint_id)
