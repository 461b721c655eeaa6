"""End-to-end throughput: complaints filed and driven to closed by the engine, against Temporal
workflows with no-op bodies on the same dev server in the same run:

- plain: what a team would write with Temporal alone: the engine's business activities, updates,
  signals and child workflows, without event-store saves, search attributes or an archive child;
- bare: the same activities as the engine, event-store saves included, updates, signals and children;
- bare+footprint: bare plus the engine's upserts, timers and activity input sizes.

Rounds alternate engine, plain, bare, bare+footprint, and each round after the engine's replays the
exact shapes the engine round before it produced (read off the engine cases' histories), so drift on
a shared machine hits every side alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import pkgutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.service import RPCError

from bench.common import (
    CpuMeter,
    Section,
    Stopwatch,
    database_name,
    fixed,
    fresh_database,
    percentile,
    postgres_backend_pids,
    progress,
)
from bench.engine_driver import TOKEN_KEY, CaseRun, EngineDriver, bounded, run_bare
from bench.processes import DevServer, WorkerProcess, dev_server
from bench.profiling import PySpy, summarise
from bench.shapes import COUNTED_STEPS, Shape, drain, shape_of
from client.api import ClientOptions, ComplaintClient
from domain.cases import Category
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from sandboxes.reset import reset_sandboxes
from store.db import connect_pool
from stories.story import Story

SIDES = ("engine", "plain", "bare", "bare+footprint")


# --- which categories can run -----------------------------------------------------------------------


def playbook_placeholder(category: Category) -> str | None:
    """Why a category's playbook cannot run yet (a placeholder), or None when it is written."""
    try:
        module = importlib.import_module(f"workflows.playbooks.{category.value}")
        source = inspect.getsource(module)
    except Exception as error:  # a module someone is still writing may not even import
        return f"playbook does not import: {type(error).__name__}: {error}"
    if "raise NotImplementedError" in source:
        return "playbook is a placeholder (raises NotImplementedError)"
    return None


def stories_by_category(now: datetime) -> tuple[dict[Category, list[Story]], dict[str, str]]:
    """The demo's stories (stories/*) by category; modules that fail to load are reported, not fatal."""
    import stories as package

    found: dict[Category, list[Story]] = {}
    broken: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        try:
            module = importlib.import_module(f"stories.{info.name}")
            if not hasattr(module, "stories"):
                continue
            for story in module.stories(now):
                found.setdefault(Category(story.intake.category), []).append(story)
        except Exception as error:  # a broken story module leaves its category out, reported
            broken[info.name] = f"{type(error).__name__}: {error}"
    return found, broken


# --- the benchmark --------------------------------------------------------------------------------


@dataclass
class SideTotals:
    cases: int = 0
    closed: int = 0
    failed: int = 0  # ended, but with an error: the Temporal work was done all the same
    unfinished: int = 0  # still running at the timeout, or never started
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: Counter[str] = field(default_factory=Counter)
    shapes: list[Shape] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, runs: list[CaseRun], seconds: float, cpu: dict[str, float]) -> None:
        self.cases += len(runs)
        self.closed += sum(run.ok for run in runs)
        self.failed += sum(not run.ok and run.finished for run in runs)
        self.unfinished += sum(not run.finished for run in runs)
        self.seconds += seconds
        self.latencies += [run.seconds for run in runs if run.ok]
        self.cpu.update(cpu)
        self.failures += [f"{run.complaint_id}: {run.detail}" for run in runs if not run.ok][:5]
        # The innermost cause says why; the case id prefix (category) is in the sample above.
        self.reasons.update(run.detail.split(" <- ")[-1][:160] for run in runs if not run.ok)

    @property
    def finished(self) -> int:
        return self.closed + self.failed

    @property
    def rate(self) -> float:
        """Finished cases per second: the same Temporal work on both sides, failures included."""
        return self.finished / self.seconds if self.seconds else 0.0

    @property
    def closed_rate(self) -> float:
        return self.closed / self.seconds if self.seconds else 0.0


async def _probe(driver: EngineDriver, categories: dict[Category, list[Story]], run_id: str,
                 ) -> tuple[list[Category], dict[str, str], dict[str, Shape]]:
    """One case per candidate category: those that close join the mix, with their shape."""
    probes = {category: f"PROBE-{run_id}-{category.value.replace('_', '-')}" for category in categories}
    runs = await asyncio.gather(*(driver.run(categories[c][0], cid) for c, cid in probes.items()))
    await archived(driver.pool, f"PROBE-{run_id}-", 60)
    ok: list[Category] = []
    excluded: dict[str, str] = {}
    shapes: dict[str, Shape] = {}
    for (category, complaint_id), run in zip(probes.items(), runs, strict=True):
        if run.ok:
            ok.append(category)
            shapes[category.value] = await shape_of(driver.client.temporal, complaint_id)
        else:
            excluded[category.value] = f"probe case did not close: {run.detail[:200]}"
            with contextlib.suppress(RPCError):  # it may have ended on its own meanwhile
                await driver.client.temporal.get_workflow_handle(complaint_id).terminate("benchmark probe failed")
    return ok, excluded, shapes


async def run(cfg: dict[str, Any], server_url: str, *, profile_dir: Path | None = None) -> Section:
    section = Section("throughput", "End-to-end throughput: engine vs plain and bare Temporal workflows")
    cases, concurrency, rounds = cfg["cases"], cfg["concurrency"], cfg["rounds"]
    mode, poll, timeout = cfg.get("driver", "readmodel"), cfg.get("poll_ms", 20) / 1000, cfg.get("timeout", 180)
    section.params = {"cases_per_side": cases, "concurrency": concurrency, "rounds": rounds, "driver": mode,
                      "poll_ms": poll * 1000, "server": "temporal server start-dev, SQLite WAL + synchronous=NORMAL"}
    run_id = uuid.uuid4().hex[:6]
    async with fresh_database(server_url, "bench_tp") as database_url, dev_server() as server:
        pool = await connect_pool(database_url, max_size=10)
        partner = await start_partner_sandbox(port=0)
        try:
            async with pool.acquire() as conn:
                await seed_boss(conn, datetime.now(UTC).date())
            await _run(section, cfg, server, pool, database_url, partner.url, run_id,
                       cases, concurrency, rounds, mode, poll, timeout, profile_dir)
        finally:
            await partner.stop()
            await pool.close()
    return section


async def _run(section: Section, cfg: dict[str, Any], server: DevServer, pool: asyncpg.Pool, database_url: str,
               partner_url: str, run_id: str, cases: int, concurrency: int, rounds: int, mode: str, poll: float,
               timeout: float, profile_dir: Path | None) -> None:
    engine_queue, bare_queue = f"bench-engine-{run_id}", f"bench-bare-{run_id}"
    temporal = server.env.client
    client = ComplaintClient(temporal, options=ClientOptions(task_queue=engine_queue), token_key=TOKEN_KEY)
    database = database_name(database_url)
    async with (
        WorkerProcess("engine", address=server.address, task_queue=engine_queue, database_url=database_url,
                      partner_url=partner_url) as engine_worker,
        WorkerProcess("bare", address=server.address, task_queue=bare_queue) as bare_worker,
        EngineDriver(client, pool, mode=mode, poll_seconds=poll, timeout=timeout) as driver,
    ):
        # Which categories run: a written playbook, a story to drive it, and a probe case that closes.
        stories, broken = stories_by_category(datetime.now(UTC))
        excluded: dict[str, str] = {f"stories module {name}": why for name, why in broken.items()}
        candidates: dict[Category, list[Story]] = {}
        for category in Category:
            reason = playbook_placeholder(category)
            if reason is None and category not in stories:
                reason = "no story in stories/ to drive it"
            if reason:
                excluded[category.value] = reason
            else:
                candidates[category] = stories[category]
        progress(f"throughput: probing {', '.join(c.value for c in candidates) or 'nothing'}")
        await reset_sandboxes(pool, partner_url)
        mix, probe_excluded, probe_shapes = await _probe(driver, candidates, run_id)
        excluded.update(probe_excluded)
        section.params["mix"] = [c.value for c in mix]
        section.params["excluded"] = excluded
        if not mix:
            section.error = "no category could run a case end to end"
            return
        # Round-robin over the categories, and over each category's stories.
        plan: list[Story] = []
        for i in range(cases):
            choices = candidates[mix[i % len(mix)]]
            plan.append(choices[(i // len(mix)) % len(choices)])

        async def pg_pids() -> list[int]:
            return await postgres_backend_pids(pool, database)

        totals = {side: SideTotals() for side in SIDES}
        per_round = [plan[r::rounds] for r in range(rounds)]
        profile: dict[str, Any] | None = None

        async def timed(side: str, jobs: list[Any], worker: WorkerProcess, prefix: str,
                        spy: PySpy | None = None) -> list[CaseRun]:
            """Run one side's cases; its time runs until their child workflows are done too, and for the
            engine until the archiver has archived them."""
            meter = CpuMeter({"temporal server": fixed(server.pid), "worker": fixed(worker.pid), "postgres": pg_pids})
            await meter.start()
            async with spy or contextlib.nullcontext():
                watch = Stopwatch()
                runs = await bounded(concurrency, jobs)
                await drain(temporal, prefix, timeout)
                if side == "engine":
                    await archived(pool, prefix, timeout)
                seconds = watch.seconds
            totals[side].add(runs, seconds, await meter.stop())
            return runs

        for r, round_plan in enumerate(per_round):
            await reset_sandboxes(pool, partner_url)
            ids = [f"TP-{run_id}-{r}-{i:05d}" for i in range(len(round_plan))]
            progress(f"throughput: round {r + 1}/{rounds}, engine, {len(round_plan)} cases")
            spy = PySpy(engine_worker.pid, profile_dir / f"engine-worker-round{r + 1}.txt") if profile_dir else None
            jobs = [(lambda s=story, c=cid: driver.run(s, c)) for story, cid in zip(round_plan, ids, strict=True)]
            runs = await timed("engine", jobs, engine_worker, f"TP-{run_id}-{r}-", spy)
            if spy and spy.error:
                section.notes.append(f"profile: {spy.error}")
            elif spy and profile is None:
                profile = summarise(spy.output)
                profile["raw"] = str(spy.output)
            # The bare rounds replay exactly what these engine cases did in Temporal, failures included.
            finished = [cid for cid, run in zip(ids, runs, strict=True) if run.finished]
            shapes = list(await bounded(20, [(lambda c=c: shape_of(temporal, c)) for c in finished]))
            totals["engine"].shapes += shapes
            for side in SIDES[1:]:
                progress(f"throughput: round {r + 1}/{rounds}, {side}, {len(shapes)} workflows")
                prefix = f"{side.upper().replace('+', '-')}-{run_id}-{r}-"
                bare_ids = [f"{prefix}{i:05d}" for i in range(len(shapes))]
                inputs = [shape.plain_input() if side == "plain" else shape.bare_input(footprint=side != "bare")
                          for shape in shapes]
                bare_runs = await timed(side, [
                    (lambda s=start, w=wid: run_bare(temporal, bare_worker.task_queue, s, w, timeout))
                    for start, wid in zip(inputs, bare_ids, strict=True)], bare_worker, prefix)
                sample = [wid for wid, run in zip(bare_ids, bare_runs, strict=True) if run.ok][:5]
                totals[side].shapes += [await shape_of(temporal, wid) for wid in sample]
        _report(section, totals, mix, probe_shapes, driver, profile)


async def archived(pool: asyncpg.Pool, prefix: str, timeout: float) -> int:
    """Wait until the engine's archiver has taken every queued run of the cases whose ids start with
    `prefix` (their histories are in temporal_run_archive); how many were still queued at the end."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        queued = int(await pool.fetchval("SELECT count(*) FROM archive_queue WHERE starts_with(complaint_id, $1)",
                                         prefix))
        if not queued or asyncio.get_running_loop().time() > deadline:
            return queued
        await asyncio.sleep(0.1)


def _report(section: Section, totals: dict[str, SideTotals], mix: list[Category], probe_shapes: dict[str, Shape],
            driver: EngineDriver, profile: dict[str, Any] | None) -> None:
    engine, plain, bare, footprint = (totals[side] for side in SIDES)
    ratio = engine.rate / plain.rate if plain.rate else None
    to_bare = engine.rate / bare.rate if bare.rate else None
    section.headers = ["side", "cases", "closed", "failed", "unfinished", "seconds", "finished/s", "closed/s",
                       "p50 s", "p95 s", "worker ms/case", "temporal ms/case", "postgres ms/case",
                       "history events/case", "history KB/case"]
    metrics: dict[str, Any] = {}
    for name, side in totals.items():
        done = max(side.finished, 1)
        cpu_ms = {k: round(1000 * v / done, 1) for k, v in side.cpu.items()}
        shapes = side.shapes
        history = sum(s.history_events for s in shapes) / len(shapes) if shapes else None
        history_kb = sum(s.history_bytes for s in shapes) / len(shapes) / 1024 if shapes else None
        section.rows.append([
            name, side.cases, side.closed, side.failed, side.unfinished, round(side.seconds, 1),
            round(side.rate, 2), round(side.closed_rate, 2), percentile(side.latencies, 50),
            percentile(side.latencies, 95), cpu_ms.get("worker"), cpu_ms.get("temporal server"),
            cpu_ms.get("postgres"), history, history_kb,
        ])
        metrics[name] = {
            "cases": side.cases, "closed": side.closed, "failed": side.failed, "unfinished": side.unfinished,
            "seconds": round(side.seconds, 2), "finished_per_second": round(side.rate, 3),
            "closed_per_second": round(side.closed_rate, 3),
            "latency_p50_s": percentile(side.latencies, 50), "latency_p95_s": percentile(side.latencies, 95),
            "cpu_seconds": dict(side.cpu), "cpu_ms_per_case": cpu_ms, "history_events_per_case": history,
            "history_kb_per_case": history_kb, "failures_sample": side.failures,
            "failure_reasons": dict(side.reasons),
        }
    metrics["ratio_engine_to_plain"] = round(ratio, 3) if ratio else None
    metrics["ratio_engine_to_bare"] = round(to_bare, 3) if to_bare else None
    metrics["ratio_engine_to_bare_footprint"] = round(engine.rate / footprint.rate, 3) if footprint.rate else None
    if engine.shapes:
        n = len(engine.shapes)
        metrics["per_engine_case"] = {
            step: round(sum(s.count(step) for s in engine.shapes) / n, 2)
            for step in COUNTED_STEPS
        } | {"child_workflows": round(sum(len(s.children) for s in engine.shapes) / n, 2),
             "child_activities": round(sum(s.child_activities() for s in engine.shapes) / n, 2),
             "workflow_tasks": round(sum(s.workflow_tasks for s in engine.shapes) / n, 2),
             "activity_input_bytes": round(sum(sum(s.pads) for s in engine.shapes) / n)}
    metrics["shapes_by_category"] = {
        category: {"activities": s.count("activity"), "updates": s.count("update"), "signals": s.count("signal"),
                    "child_workflows": len(s.children), "child_activities": s.child_activities(),
                    "upserts": s.count("upsert"), "timers": s.count("timer"),
                    "history_events": s.history_events, "history_bytes": s.history_bytes}
        for category, s in probe_shapes.items()
    }
    metrics["driver_polls"] = driver.queries
    if profile:
        metrics["engine_worker_profile"] = profile
    section.metrics = metrics
    section.target = "engine >= 0.8x the plain Temporal workflow's finished cases/s"
    section.target_met = None if ratio is None else ratio >= 0.8
    if ratio and to_bare:
        section.notes.append(
            f"ratio engine/plain = {ratio:.2f}; engine/bare = {to_bare:.2f}; engine/bare+footprint = "
            f"{metrics['ratio_engine_to_bare_footprint']:.2f} (finished cases per second; the other sides replay "
            "every finished engine case's shape, failed ones included)")
    section.notes.append("mix: " + ", ".join(c.value for c in mix))
    for category, reason in section.params.get("excluded", {}).items():
        section.notes.append(f"not in the mix: {category}: {reason}")
    if engine.shapes:
        per = metrics["per_engine_case"]
        section.notes.append(
            f"per engine case: {per['activity']} activities (event-store saves included), {per['update']} updates, "
            f"{per['signal']} signals, {per['child_workflows']} child workflows running {per['child_activities']} "
            "activities: bare does the same; plain leaves out the saves and the upserts; "
            f"bare+footprint also does the engine's {per['upsert']} search-attribute upserts, {per['timer']} timers "
            f"and {per['activity_input_bytes']:,} bytes of activity input")
    if profile:
        top = ", ".join(f"{name} {share}%" for name, share in profile["by_package_percent"][:6])
        section.notes.append(f"engine worker CPU (py-spy, GIL held) by package: {top}")
    for name, side in totals.items():
        for reason, count in side.reasons.most_common(4):
            section.notes.append(f"{name}: {count} case(s) did not close: {reason}")
