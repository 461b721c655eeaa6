"""A remediation campaign at scale (issue 18): one batch's harmed numbers opened as cases, on a dev server.

At full size the campaign runs over the seed's own batch (B-DRINKS-CLAWBACK, 2,000 numbers, 1,601
harmed); smaller sizes generate a batch of that kind. The engine worker runs in a process of its own,
its RSS sampled twice a second. Figures: cases opened per second (the campaign's start to its end),
time until every case has settled (reached its first question to the customer), and the worker's peak RSS.
The start rate is set far above what the machine does, so the figure is the engine's, not the limit's.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import Section, Stopwatch, bench_issuer, fresh_database, progress
from bench.processes import WorkerProcess, dev_server
from client.remediation import RemediationClient
from domain.clock import at_local, local_day
from sandboxes.batch_population import clawback_batch, population
from sandboxes.boss_seed import seed_boss, write_rows
from sandboxes.partner_carrier import start_partner_sandbox
from store.db import connect_pool
from stories import validity_shortened as story

UNLIMITED_RATE = 60_000  # cases a minute: no throttle at these sizes


async def _batch(pool: asyncpg.Pool, numbers: int) -> str:
    """The seed's batch at its own size; otherwise a generated batch of `numbers`."""
    if numbers == story.BATCH_NUMBERS:
        return story.CLAWBACK_BATCH_ID
    batch_id = f"BENCH-{uuid.uuid4().hex[:8].upper()}"
    anchor = local_day(datetime.now(UTC))
    batch = clawback_batch(batch_id, at_local(anchor - timedelta(days=5), 9, 0), -story.BATCH_ADJUSTMENT_FEN,
                           story.BATCH_ADJUSTMENT_REASON)
    async with pool.acquire() as conn, conn.transaction():
        await write_rows(conn, population(anchor, batch, size=numbers, first_msisdn=13_960_000_000))
    return batch_id


async def _settled(pool: asyncpg.Pool, batch_id: str) -> int:
    count: int = await pool.fetchval(
        """SELECT count(*) FROM complaints WHERE complaint_id LIKE $1
             AND (state->'pending_question' <> 'null'::jsonb OR status IN ('resolved', 'closed'))""",
        f"REM-{batch_id}-%")
    return count


async def run(cfg: dict[str, Any], server_url: str) -> Section:
    numbers = cfg["numbers"]
    section = Section("remediation", f"Remediation campaign: a batch of {numbers} numbers, a case per harmed one")
    section.params = {"numbers": numbers, "page_size": cfg["page_size"], "rate_per_minute": UNLIMITED_RATE,
                      "worker": "one engine worker process (bench.worker_proc)"}
    async with fresh_database(server_url, "bench_rem") as database_url, dev_server() as server:
        pool = await connect_pool(database_url, max_size=4)
        partner = await start_partner_sandbox(port=0)
        try:
            async with pool.acquire() as conn:
                await seed_boss(conn, datetime.now(UTC).date())
            batch_id = await _batch(pool, numbers)
            queue = f"bench-rem-{uuid.uuid4().hex[:6]}"
            token, _ = bench_issuer().login("sup-zhang", datetime.now(UTC), ttl=timedelta(hours=2))
            campaigns = RemediationClient(server.env.client, task_queue=queue)
            async with WorkerProcess("engine", address=server.address, task_queue=queue,
                                     database_url=database_url, partner_url=partner.url) as worker:
                peak = worker.rss()
                baseline = peak

                async def sample() -> None:
                    nonlocal peak
                    while True:
                        peak = max(peak, worker.rss())
                        await asyncio.sleep(0.5)

                sampler = asyncio.create_task(sample())
                try:
                    clock = Stopwatch()
                    handle = await campaigns.start(batch_id, token, cases_per_minute=UNLIMITED_RATE,
                                                   page_size=cfg["page_size"])
                    result = await asyncio.wait_for(handle.result(), cfg["timeout"])
                    opened_seconds = clock.seconds
                    progress(f"remediation: {result.opened} cases opened in {opened_seconds:.1f}s")
                    while await _settled(pool, batch_id) < result.harmed:
                        if clock.seconds > cfg["timeout"]:
                            raise TimeoutError(f"not every case settled within {cfg['timeout']}s")
                        await asyncio.sleep(0.5)
                    settled_seconds = clock.seconds
                finally:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
        finally:
            await partner.stop()
            await pool.close()
    per_second = result.opened / opened_seconds if opened_seconds else 0.0
    section.headers = ["numbers", "harmed", "cases opened", "opened/s", "all settled s", "worker RSS MiB",
                       "peak RSS MiB"]
    section.rows.append([numbers, result.harmed, result.opened, round(per_second, 1), round(settled_seconds, 1),
                         round(baseline / 2**20, 1), round(peak / 2**20, 1)])
    section.metrics = {"numbers": numbers, "harmed": result.harmed, "opened": result.opened,
                       "already_open": result.already_open, "runs": result.runs,
                       "opened_per_second": round(per_second, 2), "campaign_seconds": round(opened_seconds, 2),
                       "all_settled_seconds": round(settled_seconds, 2), "worker_rss_start_bytes": baseline,
                       "worker_rss_peak_bytes": peak}
    section.notes.append(
        "settled: the case has reached its first question to the customer (or ended); the cases then wait, "
        "as a real customer would be asked. RSS sampled every 0.5 s from /proc")
    return section
