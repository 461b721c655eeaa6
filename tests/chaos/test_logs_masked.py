"""The worker's log holds no full phone or ID number, even when activities fail with them in hand.

A real worker process runs at DEBUG while cases hit transient partner failures, a partner refusal
and our own identity check; its whole log (JSON lines, tracebacks included) is then searched for
every number the cases carried. The masked forms must be there (the numbers did reach the log
lines), the clear ones never.
"""

from __future__ import annotations

import asyncio
import json
import random

from client.api import ComplaintClient
from domain.masking import mask_id_number, mask_msisdn
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER
from tests.chaos.cases import CONFIRM, answer_when_asked, forwarding_intake
from tests.chaos.conftest import SpawnWorker
from tests.chaos.partner import ChaosPartner, unicom_number


async def test_the_worker_log_holds_no_full_phone_or_id_number(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_partner: ChaosPartner
) -> None:
    rng = random.Random()
    flaky, refusing = unicom_number(rng), unicom_number(rng)
    await chaos_partner.arm(flaky)
    await chaos_partner.arm(refusing, id_number=STRANGER_ID_NUMBER)
    await chaos_partner.faults(fail_next=4)  # the first attempts of both partner calls fail
    worker = await spawn_worker(log_level="DEBUG")
    intakes = [
        forwarding_intake(flaky),
        forwarding_intake(refusing),
        forwarding_intake(unicom_number(rng), id_number=STRANGER_ID_NUMBER),
    ]
    handles = [await client.file(intake) for intake in intakes]
    await asyncio.gather(*(answer_when_asked(client, i.complaint_id, CONFIRM, "yes") for i in intakes))
    await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)
    await worker.stop()

    log = worker.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) > 10, log[-2000:]
    personal = {
        FORWARDING_CUSTOMER.msisdn: mask_msisdn(FORWARDING_CUSTOMER.msisdn),
        flaky: mask_msisdn(flaky),
        refusing: mask_msisdn(refusing),
        FORWARDING_CUSTOMER.id_number: mask_id_number(FORWARDING_CUSTOMER.id_number),
        STRANGER_ID_NUMBER: mask_id_number(STRANGER_ID_NUMBER),
    }
    leaked = [number for number in personal if number in log]
    assert not leaked, f"full numbers in the worker log: {[mask_msisdn(n) for n in leaked]}"
    # Not a vacuous pass: the failing activities' messages carried the partner numbers, masked.
    assert personal[flaky] in log and personal[refusing] in log
