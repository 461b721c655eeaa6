"""Two complaints from one customer at the same time: both must end, neither may fail.

People do complain twice (at the counter, then on the hotline). Here two spam_sms cases about the
same number race to end the same unordered SP service: the test holds both cases' adjustment locks
until both are about to apply, then lets them through one after the other. The second finds the
service already ended; it should say so and carry on, not fail the case.
"""

from __future__ import annotations

import asyncio
from functools import partial

import asyncpg

from client.api import ComplaintClient
from domain.cases import Category
from domain.intake import parse_intake
from stories.spam_sms import SPAM_SMS_CUSTOMER
from tests.chaos.cases import AGENT, case_id, eventually, started_activity
from tests.chaos.conftest import SpawnWorker
from tests.chaos.test_worker_killed import KEY_LOCK_CLASS


async def _waiting_on_locks(pool: asyncpg.Pool) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
    )
    return count


async def test_two_spam_cases_about_one_number_at_once_both_close(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_pool: asyncpg.Pool
) -> None:
    intakes = [
        parse_intake(
            {
                "complaint_id": case_id("CHAOS-SPAM"),
                "category": Category.SPAM_SMS.value,
                "msisdn": SPAM_SMS_CUSTOMER.msisdn,
                "customer_name": SPAM_SMS_CUSTOMER.name,
                "description": "经常收到垃圾短信",
                "filed_by": AGENT.model_dump(),
            }
        )
        for _ in range(2)
    ]
    await spawn_worker()
    blocker = await chaos_pool.acquire()
    try:
        for intake in intakes:
            await blocker.execute(
                "SELECT pg_advisory_lock($1, hashtext($2))", KEY_LOCK_CLASS, f"{intake.complaint_id}:r0:adj-1"
            )
        handles = [await client.file(intake) for intake in intakes]
        for handle in handles:
            await eventually(
                partial(started_activity, handle, "apply_adjustment"),
                timeout=30,
                what="no adjustment started",
            )

        async def both_waiting() -> bool:
            return await _waiting_on_locks(chaos_pool) == 2

        await eventually(both_waiting, timeout=10, what="the two adjustments never both waited")
        for intake in intakes:  # one after the other: the first ends the service, the second finds it ended
            await blocker.execute(
                "SELECT pg_advisory_unlock($1, hashtext($2))",
                KEY_LOCK_CLASS,
                f"{intake.complaint_id}:r0:adj-1",
            )
            await asyncio.sleep(1.0)
    finally:
        await blocker.execute("SELECT pg_advisory_unlock_all()")
        await chaos_pool.release(blocker)

    async def both_past_the_adjustment() -> bool:
        for handle in handles:
            description = await handle.describe()
            if description.status is not None and description.status.name == "FAILED":
                return True
        views = [await client.view(i.complaint_id) for i in intakes]
        return all(v.state.pending_question is not None for v in views)

    await eventually(both_past_the_adjustment, timeout=30, what="the cases neither failed nor went on")
    for handle in handles:
        description = await handle.describe()
        assert description.status is not None and description.status.name == "RUNNING", description.status
