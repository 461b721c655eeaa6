"""Worker memory per open case: N forwarding cases left waiting on the customer's confirmation, each
cached in the worker (sticky cache), against a bare workflow waiting on an update.

Each worker runs in a process of its own; its RSS is read from /proc before the cases, with half
of them open and with all of them open. The per-case figure is the slope from none to all.

With `--profile` each worker also traces its allocations (tracemalloc, one frame), and the notes name where the
growth from none to all went, per open case, by source file. Tracing costs memory of its own: its RSS figures
are not comparable with an untraced run's.
"""

from __future__ import annotations

import asyncio
import statistics
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.bare import BareComplaintWorkflow, BareInput
from bench.common import PROJECT_ROOT, Section, bench_issuer, fresh_database, progress
from bench.engine_driver import TOKEN_KEY, EngineDriver, bounded
from bench.processes import WorkerProcess, dev_server
from cli.demo import StoryLogins
from client.api import ClientOptions, ComplaintClient
from domain.intake import parse_intake
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from store.db import connect_pool
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.story import Story

SETTLE_SECONDS = 1.0  # before each reading; `settle_seconds` in the size overrides it (smoke: only proving it runs)
SAMPLES = 5
TOP_SITES = 6  # source files named per worker in --profile's note


def _intake(complaint_id: str) -> Any:
    return parse_intake({
        "complaint_id": complaint_id, "category": "forwarding_cancel", "msisdn": FORWARDING_CUSTOMER.msisdn,
        "customer_name": FORWARDING_CUSTOMER.name, "id_number": FORWARDING_CUSTOMER.id_number,
        "partner_msisdn": FORWARDING_CUSTOMER.partner_msisdn,
        "description": "改号通知后联通手机无法接听电话, 要求半小时内解决",
        "filed_by": {"id": "agent-li", "role": "agent", "channel": "store"},
    })


async def _rss(worker: WorkerProcess, settle: float) -> int:
    """The median of SAMPLES readings over `settle` seconds, after `settle` seconds of quiet."""
    await asyncio.sleep(settle)
    samples = []
    for _ in range(SAMPLES):
        samples.append(worker.rss())
        await asyncio.sleep(settle / SAMPLES)
    return int(statistics.median(samples))


async def _until(condition: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the cases did not all reach their waiting point")
        await asyncio.sleep(0.1)


def _slope(points: list[tuple[int, int]]) -> float:
    """Least-squares bytes per case through (cases, rss) points."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)


async def run(cfg: dict[str, Any], server_url: str, *, profile_dir: Path | None = None) -> Section:
    section = Section("memory", "Worker memory per open (cached) case")
    cases = cfg["cases"]
    settle = cfg.get("settle_seconds", SETTLE_SECONDS)
    run_id = uuid.uuid4().hex[:6]
    section.params = {"cases": cases, "max_cached_workflows": "SDK default (1000)",
                      "engine case": "forwarding_cancel waiting for the customer's confirmation",
                      "bare case": "one no-op activity, then waiting for an update"}
    steps = [0, cases // 2, cases]
    results: dict[str, list[tuple[int, int]]] = {}
    traced = {kind: profile_dir / f"memory-{kind}" for kind in ("engine", "bare")} if profile_dir else {}
    async with fresh_database(server_url, "bench_mem") as database_url, dev_server() as server:
        pool = await connect_pool(database_url, max_size=4)
        partner = await start_partner_sandbox(port=0)
        try:
            async with pool.acquire() as conn:
                await seed_boss(conn, datetime.now(UTC).date())
            results["engine"] = await _engine(server, pool, database_url, partner.url, run_id, steps, settle,
                                              traced.get("engine"))
            results["bare"] = await _bare(server, run_id, steps, settle, traced.get("bare"))
        finally:
            await partner.stop()
            await pool.close()
    section.headers = ["worker", "RSS before MiB", f"RSS at {steps[1]} MiB", f"RSS at {steps[2]} MiB",
                       "KiB per open case"]
    metrics: dict[str, Any] = {}
    for name, points in results.items():
        per_case = _slope(points)
        section.rows.append([name, *(round(rss / 2**20, 1) for _, rss in points), round(per_case / 1024, 1)])
        metrics[name] = {"points": [{"cases": n, "rss_bytes": rss} for n, rss in points],
                         "bytes_per_case": round(per_case)}
    section.metrics = metrics
    for kind, prefix in traced.items():
        section.notes.append(_growth_by_file(kind, prefix, cases))
    section.notes.append(
        f"RSS of the worker process alone (its own subprocess), median of {SAMPLES} samples after a {settle:g} s "
        "settle; per case = least-squares slope over the three points. Python rarely returns memory to the OS, so "
        "this is what a worker holding that many open cases needs, not what a closed case leaves behind")
    return section


async def _reading(worker: WorkerProcess, settle: float) -> int:
    """The worker's RSS now (and, when it traces memory, a snapshot of its allocations first)."""
    if worker.traces_memory:
        await asyncio.sleep(settle)
        await worker.memory_snapshot()
    return await _rss(worker, settle)


def _growth_by_file(kind: str, prefix: Path, cases: int) -> str:
    """Where the worker's traced allocations grew from no open case to all of them, per case and source file."""
    first, last = (tracemalloc.Snapshot.load(f"{prefix}-{n}.snap") for n in (0, 2))
    grown = [stat for stat in last.compare_to(first, "filename") if stat.size_diff > 0]
    total = sum(stat.size_diff for stat in grown)
    sites = ", ".join(
        f"{_short(stat.traceback[0].filename)} {stat.size_diff / cases / 1024:.1f}" for stat in grown[:TOP_SITES]
    )
    return f"profile, {kind}: traced growth {total / cases / 1024:.0f} KiB per open case; KiB per case by file: {sites}"


def _short(filename: str) -> str:
    return filename.split("site-packages/", 1)[-1].replace(str(PROJECT_ROOT) + "/", "")


async def _file(client: ComplaintClient, logins: StoryLogins, complaint_id: str) -> None:
    intake = _intake(complaint_id)
    await client.file(intake, logins.token(intake.filed_by))


async def _engine(server: Any, pool: asyncpg.Pool, database_url: str, partner_url: str, run_id: str,
                  steps: list[int], settle: float, trace: Path | None) -> list[tuple[int, int]]:
    queue = f"bench-mem-engine-{run_id}"
    client = ComplaintClient(server.env.client, options=ClientOptions(task_queue=queue), token_key=TOKEN_KEY)
    logins = StoryLogins.from_issuer(bench_issuer())  # the filer proves who they are, as everywhere
    points: list[tuple[int, int]] = []
    async with WorkerProcess("engine", address=server.address, task_queue=queue, database_url=database_url,
                             partner_url=partner_url, trace_memory=trace) as worker:
        # One case to the end first, so every module a case loads is loaded before the baseline.
        async with EngineDriver(client, pool, mode="readmodel", poll_seconds=0.02, timeout=60) as driver:
            warm = Story("warm-up", _intake(f"MEMW-{run_id}"), answers={"confirm-resolution": "yes"})
            await driver.run(warm, f"MEMW-{run_id}")
        points.append((0, await _reading(worker, settle)))
        opened = 0
        for target in steps[1:]:
            ids = [f"MEM-{run_id}-{n:05d}" for n in range(opened, target)]
            progress(f"memory: engine, opening cases {opened + 1}..{target}")
            await bounded(50, [(lambda c=c: _file(client, logins, c)) for c in ids])
            opened = target

            async def waiting(expected: int = target) -> bool:
                count = await pool.fetchval(
                    """SELECT count(*) FROM complaints WHERE complaint_id LIKE $1
                       AND state->'pending_question' <> 'null'::jsonb""", f"MEM-{run_id}-%")
                return count >= expected

            await _until(waiting, 120 + target / 5)
            points.append((target, await _reading(worker, settle)))
    # The cases stay open: the dev server holding them is thrown away with its temporary folder.
    return points


async def _bare(server: Any, run_id: str, steps: list[int], settle: float, trace: Path | None
                ) -> list[tuple[int, int]]:
    queue = f"bench-mem-bare-{run_id}"
    temporal = server.env.client
    points: list[tuple[int, int]] = []
    async with WorkerProcess("bare", address=server.address, task_queue=queue, trace_memory=trace) as worker:
        warm = await temporal.start_workflow(BareComplaintWorkflow.run, BareInput(script=["activity"]),
                                             id=f"MEMBW-{run_id}", task_queue=queue)
        await warm.result()
        points.append((0, await _reading(worker, settle)))
        handles: list[Any] = []

        async def waiting() -> bool:
            states = await bounded(20, [(lambda h=h: h.query(BareComplaintWorkflow.waiting_for_update))
                                        for h in handles])
            return all(states)

        for target in steps[1:]:
            progress(f"memory: bare, opening workflows {len(handles) + 1}..{target}")
            handles.extend(await bounded(50, [
                (lambda n=n: temporal.start_workflow(
                    BareComplaintWorkflow.run, BareInput(script=["activity", "update"]),
                    id=f"MEMB-{run_id}-{n:05d}", task_queue=queue))
                for n in range(len(handles), target)]))
            await _until(waiting, 120 + target / 5)
            points.append((target, await _reading(worker, settle)))
    return points
