"""Filings per second over HTTP (POST troubleTicket) against ComplaintClient.file doing the same, on a real
engine worker: each filing starts the case and waits for its first steps (its links to open cases) and its
view, as the API's POST does (api.filing), so both sides do the same work and differ only by HTTP.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from api.filing import WAIT_FOR_FIRST_STEPS_SECONDS
from bench.common import summary_ms
from bench.processes import WorkerProcess
from client.api import ClientOptions, ComplaintClient
from domain.actors import Actor, Role
from domain.cases import Category, Priority
from domain.intake import ComplaintIntake
from runtime.settings import Settings
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox

TICKETS = "/tmf-api/troubleTicket/v5/troubleTicket"
NUMBER = "13666778765"  # the billing-spike story's customer, seeded in the billing-system sandbox


def _body(index: int) -> dict[str, Any]:
    return {
        "ticketType": Category.BILLING_SPIKE.value, "severity": "Minor", "description": f"话费异常 #{index}",
        "relatedParty": [{"role": "customer", "partyOrPartyRole": {"id": NUMBER, "name": "王女士"}}],
    }


async def _rate(count: int, concurrency: int, file_one: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    """`count` filings, `concurrency` at a time: filings per second and each filing's latency."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            started = time.perf_counter()
            await file_one(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(count)))
    seconds = time.perf_counter() - started
    return {"filings": count, "seconds": round(seconds, 2), "per_second": round(count / seconds, 2),
            "latency": summary_ms(latencies)}


async def measure_filings(
    *, api_url: str, headers: dict[str, str], temporal_address: str, temporal: Any, database_url: str,
    task_queue: str, count: int, concurrency: int,
) -> dict[str, Any]:
    """Filings per second over HTTP and through the client API, on an engine worker of `task_queue`."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    partner = await start_partner_sandbox(port=0)
    try:
        async with pool.acquire() as conn:
            await seed_boss(conn, datetime.now(UTC).date())
        async with WorkerProcess("engine", address=temporal_address, task_queue=task_queue,
                                 database_url=database_url, partner_url=partner.url):
            # The same login files both ways: the case proves its filer from the token.
            client = ComplaintClient(temporal, options=ClientOptions(task_queue=task_queue),
                                     token_key=Settings.from_env().msisdn_token_key,
                                     credential=headers["Authorization"].removeprefix("Bearer "))
            run = uuid.uuid4().hex[:6]
            filer = Actor(id="sup-zhang", role=Role.SUPERVISOR)

            async def direct(index: int) -> None:
                intake = ComplaintIntake(
                    complaint_id=f"F-{run}-{index:05d}", category=Category.BILLING_SPIKE, msisdn=NUMBER,
                    customer_name="王女士", description=f"话费异常 #{index}", priority=Priority.NORMAL,
                    filed_by=filer,
                )
                await client.file(intake, wait_for_links=WAIT_FOR_FIRST_STEPS_SECONDS)
                await client.view(intake.complaint_id)

            async with aiohttp.ClientSession(api_url, headers=headers) as http:

                async def over_http(index: int) -> None:
                    async with http.post(TICKETS, json=_body(index)) as response:
                        body = await response.read()
                        assert response.status == 201, body

                await _rate(min(concurrency, count), concurrency, over_http)  # warm-up
                by_http = await _rate(count, concurrency, over_http)
                by_client = await _rate(count, concurrency, direct)
        return {"http": by_http, "client": by_client, "concurrency": concurrency}
    finally:
        await partner.stop()
        await pool.close()
