"""The HTTP API's cost: p50/p95/p99 of GET one ticket and of the ticket list over HTTP, against the same reads
made directly in Python (the event store and the TMF mapping for one ticket; api.listing.list_tickets, the
read model's SQL page and count, for the list).

Set-up: a fresh database loaded with real hash-chained cases and their read-model rows (bench.loader, as the
queries benchmark), a fresh Temporal dev server, and the API as a service of its own (`python -m api`, a
subprocess on a loopback port) trusting the benchmarks' issuer. One client, requests one after another over a
kept-alive connection: latency, not throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from api.context import ApiContext
from api.listing import list_tickets
from api.mapping import Reader, ticket_from_events
from api.security import Caller
from auth.tokens import verify_token
from bench.api_filing import measure_filings
from bench.common import Section, bench_issuer, fresh_database, progress, summary_ms
from bench.loader import LoadSpec, load, plan_case
from bench.processes import BENCH_KEYS, PROJECT_ROOT, dev_server
from client.api import ClientOptions, ComplaintClient
from codec.aes_gcm import key_ring_env
from runtime.embedded import free_port
from runtime.settings import Settings
from store.event_store import PostgresEventStore
from store.migrate import migrate

WARM_UP = 10
TARGET_ADDED_P95_MS = 5.0
TICKETS = "/tmf-api/troubleTicket/v5/troubleTicket"


async def _time_side_by_side(
    samples: int, calls: list[Callable[[Any], Awaitable[Any]]], args: list[Any]
) -> list[list[float]]:
    """Each call's durations, the calls taken in turn for each argument: on a shared machine the load drifts,
    and interleaving gives every call the same drift."""
    for arg in args[:WARM_UP]:
        for call in calls:
            await call(arg)
    seconds: list[list[float]] = [[] for _ in calls]
    for n in range(samples):
        for call, taken in zip(calls, seconds, strict=True):
            started = time.perf_counter()
            await call(args[n % len(args)])
            taken.append(time.perf_counter() - started)
    return seconds


@contextlib.asynccontextmanager
async def api_process(temporal_address: str, database_url: str, task_queue: str) -> AsyncIterator[str]:
    """`python -m api` on a free loopback port; its base URL once it answers."""
    port = free_port()
    issuer_dir = bench_issuer().folder.parent  # the data folder whose auth/ holds the benchmarks' issuer
    env = {
        **os.environ, "PYTHONPATH": str(PROJECT_ROOT), **key_ring_env(BENCH_KEYS),
        "TEMPORAL_ADDRESS": temporal_address, "DATABASE_URL": database_url, "COMPLAINTS_TASK_QUEUE": task_queue,
        "COMPLAINTS_DATA_DIR": str(issuer_dir), "API_PORT": str(port), "LOG_LEVEL": "WARNING", "LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api", cwd=PROJECT_ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as probe:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError(f"python -m api exited {process.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with probe.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("python -m api did not answer within 30 s")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def run(cfg: dict[str, Any], server_url: str) -> Section:
    section = Section("api_latency", "HTTP API latency (TMF621) against the same reads in Python")
    now = datetime.now(UTC).replace(microsecond=0)
    spec = LoadSpec(cases=cfg["cases"], events=cfg["events"], now=now)
    samples = cfg["samples"]
    section.params = {"cases": spec.cases, "events": spec.events, "samples": samples, "warm_up": WARM_UP}
    issuer = bench_issuer()
    token = issuer.token_for(issuer.users["sup-zhang"], datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    async with fresh_database(server_url, "bench_api") as database_url:
        conn = await asyncpg.connect(database_url)
        await migrate(conn)
        await conn.close()
        progress(f"api_latency: loading {spec.cases:,} cases / {spec.events:,} events (COPY)")
        loaded = await load(database_url, spec)
        async with dev_server() as server, api_process(server.address, database_url, "bench-api") as url:
            client = ComplaintClient(server.env.client, options=ClientOptions(task_queue="bench-api-listed"),
                                     token_key=Settings.from_env().msisdn_token_key)
            pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
            try:
                store = PostgresEventStore(pool)
                verified = verify_token(token, issuer.trusted_keys(), datetime.now(UTC))
                reader = Reader(verified)
                context = ApiContext(complaints=client, pool=pool, store=store,
                                     trusted_keys=issuer.trusted_keys)
                caller = Caller(actor=verified, token=token)
                list_args: dict[str, Any] = {"offset": 0, "limit": 50, "status": None, "category": None,
                                             "severity": None, "number": None}
                rng = random.Random(7)
                case_ids = [plan_case(spec, rng.randrange(spec.cases)).complaint_id for _ in range(samples)]
                progress(f"api_latency: timing {samples} of each read")
                # aiohttp as the load tool: its client costs ~0.1 ms a request here, httpx's ~1.5 ms.
                async with aiohttp.ClientSession(url, headers=headers) as http:

                    async def http_one(case_id: str) -> None:
                        async with http.get(f"{TICKETS}/{case_id}") as response:
                            body = await response.read()
                            assert response.status == 200, body

                    async def direct_one(case_id: str) -> None:
                        ticket = ticket_from_events(await store.load(case_id), reader, url)
                        ticket.model_dump_json(by_alias=True, exclude_none=True)

                    async def store_one(case_id: str) -> None:
                        await store.load(case_id)

                    async def http_list(_: object) -> None:
                        async with http.get(TICKETS, params={"limit": "50"}) as response:
                            await response.read()
                            assert response.status == 200 and int(response.headers["X-Total-Count"]) == spec.cases

                    async def direct_list(_: object) -> None:
                        _, page = await list_tickets(context, caller, url, **list_args)
                        json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in page])

                    one_http, one_direct, one_store = await _time_side_by_side(
                        samples, [http_one, direct_one, store_one], case_ids)
                    list_http, list_direct = await _time_side_by_side(samples, [http_list, direct_list], [None])
                    reads = {
                        "GET one ticket over HTTP": one_http,
                        "same read in Python (store + TMF mapping)": one_direct,
                        "event store load only": one_store,
                        f"GET list over HTTP (limit 50 of {spec.cases:,})": list_http,
                        "same list in Python (read-model SQL + TMF mapping)": list_direct,
                    }
                    async with http.get(f"{TICKETS}/{case_ids[0]}") as response:
                        example = await response.json()
                progress(f"api_latency: {cfg['filings']} filings over HTTP and through the client API")
                filings = await measure_filings(
                    api_url=url, headers=headers, temporal_address=server.address, temporal=server.env.client,
                    database_url=database_url, task_queue="bench-api", count=cfg["filings"],
                    concurrency=cfg["filing_concurrency"],
                )
            finally:
                await pool.close()
    summaries = {name: summary_ms(values) for name, values in reads.items()}
    section.headers = ["read", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    for name, s in summaries.items():
        section.rows.append([name, s["n"], s["p50_ms"], s["p95_ms"], s["p99_ms"], s["max_ms"]])
    names = list(summaries)
    added_one = (summaries[names[0]]["p95_ms"] or 0) - (summaries[names[1]]["p95_ms"] or 0)
    added_list = (summaries[names[3]]["p95_ms"] or 0) - (summaries[names[4]]["p95_ms"] or 0)
    for side, label in (("http", "POST filings over HTTP"), ("client", "ComplaintClient.file + view")):
        rate, latency = filings[side], filings[side]["latency"]
        section.rows.append([f"{label} ({rate['per_second']}/s at {filings['concurrency']} at a time)",
                             latency["n"], latency["p50_ms"], latency["p95_ms"], latency["p99_ms"], latency["max_ms"]])
    section.metrics = {
        "load": loaded, "reads": summaries, "filings": filings,
        "added_p95_ms": {"one": round(added_one, 2), "list": round(added_list, 2)},
        "example_status_changes": len(example["statusChangeHistory"]),
    }
    section.target = f"the API adds < {TARGET_ADDED_P95_MS:.0f} ms at p95 to the same read in Python"
    section.target_met = added_one < TARGET_ADDED_P95_MS and added_list < TARGET_ADDED_P95_MS
    section.notes.append(f"added at p95: one ticket {added_one:.2f} ms, the list {added_list:.2f} ms; filings per "
                         f"second: {filings['http']['per_second']} over HTTP, {filings['client']['per_second']} "
                         "through the client API (each waits for the case's first steps and its view)")
    section.notes.append(
        f"loaded {loaded['cases']:,} cases / {loaded['events']:,} events; the list pages the `complaints` read "
        "model in SQL (a COUNT and a LIMIT/OFFSET page, soonest deadline first)")
    section.notes.append("the API runs as `python -m api` in its own process; one client, one request at a time, "
                         "the compared reads taken in turn per sample; the first "
                         f"{WARM_UP} of each are not timed; machine load average at the end: {os.getloadavg()[0]:.1f}")
    return section
