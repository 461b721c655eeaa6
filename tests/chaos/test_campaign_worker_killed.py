"""A remediation campaign survives its worker's SIGKILL mid-way: a new worker finishes it, and every
harmed number has exactly one case, each with an intact hash chain (issue 18).

The campaign runs slowly on purpose (a few cases a second, pages of four), so the kill lands while
pages are still to come; the new worker replays the campaign's history and goes on from its cursor.
Case ids are derived from the batch and the number's position, so a case start retried after the
kill finds its case filed and opens no second one.
"""

from __future__ import annotations

import asyncio

import asyncpg

from client.api import ComplaintClient
from client.remediation import RemediationClient, case_counts
from domain.actors import Actor, Role
from domain.remediation import remediation_case_id
from tests.chaos.cases import assert_chain_intact, eventually
from tests.chaos.conftest import SpawnWorker
from tests.identity import signed
from tests.remediation.batches import HARMED_OF_20, small_batch

SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)


async def test_a_campaign_whose_worker_is_killed_mid_way_opens_each_case_once(
    client: ComplaintClient, spawn_worker: SpawnWorker, chaos_pool: asyncpg.Pool
) -> None:
    batch_id = await small_batch(chaos_pool)
    campaigns = RemediationClient(client.temporal, task_queue=client.options.task_queue)
    first = await spawn_worker(name="first")
    handle = await campaigns.start(batch_id, signed(SUPERVISOR), cases_per_minute=90, page_size=4)

    async def some_cases_opened() -> bool:
        progress = await campaigns.status(batch_id)
        return 0 < progress.cases < HARMED_OF_20

    await eventually(some_cases_opened, timeout=60, what="the campaign never opened its first cases")
    await first.kill()  # a query would now find no worker to answer it: the next one is asked of the second

    await spawn_worker(name="second")
    progress = await asyncio.wait_for(handle.result(), 180)
    assert progress.done and progress.harmed == HARMED_OF_20
    assert progress.opened + progress.already_open == HARMED_OF_20  # a retried start counts as found open

    async def all_cases_saved() -> dict[str, int] | None:
        counts = await case_counts(chaos_pool, batch_id)
        return counts if sum(counts.values()) == HARMED_OF_20 else None

    await eventually(all_cases_saved, timeout=120, what="not every harmed number's case was saved")
    ids = [r["complaint_id"] for r in await chaos_pool.fetch(
        "SELECT complaint_id FROM complaints WHERE complaint_id LIKE $1 ORDER BY complaint_id", f"REM-{batch_id}-%")]
    assert len(ids) == len(set(ids)) == HARMED_OF_20
    assert remediation_case_id(batch_id, 9) not in ids  # already past validity: no case
    for complaint_id in ids:
        await assert_chain_intact(chaos_pool, complaint_id)
