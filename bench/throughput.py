"""End-to-end throughput: complaints filed and driven to closed by the engine, against a bare
Temporal workflow doing the same activities, updates, signals and child workflows with no-op bodies,
on the same dev server in the same run.

Rounds alternate engine and bare (ABAB), and each bare round replays the exact shapes the engine
round before it produced (read off the engine cases' histories), so both sides do the same Temporal
work and drift on a shared machine hits both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import pkgutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from bench.bare import BareChild, BareComplaintWorkflow, BareInput, BareMessage, Step
from bench.common import (
    CpuMeter,
    DevServer,
    Section,
    Stopwatch,
    WorkerProcess,
    bench_issuer,
    database_name,
    dev_server,
    fixed,
    fresh_database,
    percentile,
    postgres_backend_pids,
    progress,
)
from bench.profiling import PySpy, summarise
from cli.demo import CUSTOMER, SUPERVISOR, Story, StoryLogins
from client.api import ClientOptions, ComplaintClient
from domain.cases import Category
from domain.state import ComplaintState
from sandboxes.boss_seed import rearm_stories, seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from store.db import connect_pool

TOKEN_KEY = "bench-token-key-0123456789abcdef"
SIDES = ("engine", "bare", "bare+footprint")
AWAITING = ("awaiting_customer", "awaiting_approval")


@dataclass(frozen=True)
class Shape:
    """What one case did in Temporal, read off its history (and its child workflows'), in order."""

    script: tuple[Step, ...]
    pads: tuple[int, ...]  # per step: an activity's input size in bytes
    children: tuple[Shape, ...]
    history_events: int  # children's included
    history_bytes: int
    workflow_tasks: int

    def count(self, step: Step) -> int:
        return self.script.count(step)

    def child_activities(self) -> int:
        return sum(child.count("activity") for child in self.children)

    def bare_input(self, footprint: bool) -> BareInput:
        """The bare script: activities, updates and signals, children with their activities; with
        `footprint`, also the engine's upserts, timers and activity input sizes."""
        children = []
        for child in self.children:
            pads = [pad for step, pad in zip(child.script, child.pads, strict=True) if step == "activity"]
            children.append(BareChild(script=[s for s in child.script if s == "activity"],
                                      pads=pads if footprint else []))
        if footprint:
            return BareInput(script=list(self.script), pads=list(self.pads), children=children)
        script: list[Step] = [step for step in self.script if step in ("activity", "update", "signal")]
        return BareInput(script=script, children=children)


_COUNTED_STEPS: tuple[Step, ...] = ("activity", "update", "signal", "upsert", "timer")
_STEPS: dict[int, Step] = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signal",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "upsert",
    EventType.EVENT_TYPE_TIMER_STARTED: "timer",
}


async def shape_of(temporal: Client, workflow_id: str) -> Shape:
    history = await temporal.get_workflow_handle(workflow_id).fetch_history()
    script: list[Step] = []
    pads: list[int] = []
    children: list[Shape] = []
    workflow_tasks = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            workflow_tasks += 1
        elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child_id = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            children.append(await shape_of(temporal, child_id))
        step = _STEPS.get(event.event_type)
        if step is None:
            continue
        script.append(step)
        payloads = event.activity_task_scheduled_event_attributes.input.payloads if step == "activity" else []
        pads.append(sum(len(payload.data) for payload in payloads))
    return Shape(
        script=tuple(script),
        pads=tuple(pads),
        children=tuple(children),
        history_events=len(history.events) + sum(child.history_events for child in children),
        history_bytes=sum(event.ByteSize() for event in history.events) + sum(c.history_bytes for c in children),
        workflow_tasks=workflow_tasks + sum(child.workflow_tasks for child in children),
    )


async def drain(temporal: Client, prefix: str, timeout: float) -> int:
    """Wait until no workflow whose id starts with `prefix` is running (child workflows outlive their
    parents: a round is not over until they are done). Returns how many were still running at the end."""
    query = f"WorkflowId STARTS_WITH '{prefix}' AND ExecutionStatus = 'Running'"
    deadline = time.perf_counter() + timeout
    while True:
        running = (await temporal.count_workflows(query)).count
        if not running or time.perf_counter() > deadline:
            return running
        await asyncio.sleep(0.1)


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
    """The demo's stories (cli/stories/*) by category; modules that fail to load are reported, not fatal."""
    import cli.stories as package

    found: dict[Category, list[Story]] = {}
    broken: dict[str, str] = {}
    for info in pkgutil.iter_modules(package.__path__):
        try:
            module = importlib.import_module(f"cli.stories.{info.name}")
            if not hasattr(module, "stories"):
                continue
            for story in module.stories(now):
                found.setdefault(Category(story.intake.category), []).append(story)
        except Exception as error:  # a broken story module leaves its category out, reported
            broken[info.name] = f"{type(error).__name__}: {error}"
    return found, broken


# --- driving engine cases ---------------------------------------------------------------------------


@dataclass
class _Drive:
    story: Story
    done: set[tuple[str, str]] = field(default_factory=set)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def describe_error(error: BaseException) -> str:
    """The error and its causes on one line (a workflow failure's reason is in its cause chain)."""
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 4:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__
    return " <- ".join(parts)


async def diagnose(handle: WorkflowHandle[Any, Any]) -> str:
    """Why a case did not close: its status, a failing workflow task, activities stuck retrying."""
    parts: list[str] = []
    try:
        description = await handle.describe()
        parts.append(f"status {description.status.name if description.status else '?'}")
        for pending in description.raw_description.pending_activities:
            parts.append(f"activity {pending.activity_type.name} attempt {pending.attempt}: "
                         f"{pending.last_failure.message[:200]}")
        history = await handle.fetch_history()
        for event in reversed(history.events):
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                failure = event.workflow_task_failed_event_attributes.failure
                parts.append(f"workflow task failed: {failure.message[:300]}")
                break
        last = history.events[-1]
        parts.append(f"last history event: {EventType.Name(last.event_type)}")
    except RPCError as error:
        parts.append(f"could not describe: {error}")
    return "; ".join(parts)


@dataclass
class CaseRun:
    complaint_id: str
    seconds: float
    ok: bool
    detail: str = ""
    # The workflow ended (closed, or failed with an error): it did all the Temporal work it was going to.
    finished: bool = True


class EngineDriver:
    """Files stories and answers for their people as soon as the case asks.

    `readmodel` (default) watches the PostgreSQL read model, which the engine updates in the same
    transaction as each save: one query per tick for every case in flight, none to the worker.
    `query` polls each case's `view` query, as cli/demo.py does, at the same interval.
    """

    def __init__(self, client: ComplaintClient, pool: asyncpg.Pool, *, mode: str, poll_seconds: float,
                 timeout: float) -> None:
        self.client = client
        self.logins = StoryLogins.from_issuer(bench_issuer())
        self.pool = pool
        self.mode = mode
        self.poll = poll_seconds
        self.timeout = timeout
        self.cases: dict[str, _Drive] = {}
        self.queries = 0
        self._watcher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        if self.mode == "readmodel":
            self._watcher = asyncio.create_task(self._watch_read_model())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)

    async def run(self, story: Story, complaint_id: str) -> CaseRun:
        intake = story.intake.model_copy(update={"complaint_id": complaint_id})
        drive = _Drive(story)
        started = time.perf_counter()
        self.cases[complaint_id] = drive
        try:
            handle = await self.client.file(intake)
            result = asyncio.ensure_future(handle.result())
            if self.mode == "query":
                while not result.done():
                    view = await self.client.view(complaint_id)
                    self.queries += 1
                    self._act(complaint_id, drive, view.state)
                    await asyncio.wait([result], timeout=self.poll)
            try:
                outcome = await asyncio.wait_for(result, self.timeout)
            except TimeoutError:
                detail = await diagnose(handle)
                return CaseRun(complaint_id, time.perf_counter() - started, False, f"not closed: {detail}",
                               finished=False)
            await asyncio.gather(*drive.tasks, return_exceptions=True)
            ok = outcome.status == "closed" and not drive.errors
            detail = "; ".join(drive.errors) or f"{outcome.outcome} / {outcome.close_reason}"
            return CaseRun(complaint_id, time.perf_counter() - started, ok, detail)
        except WorkflowFailureError as error:
            return CaseRun(complaint_id, time.perf_counter() - started, False, describe_error(error))
        except Exception as error:  # one case's failure is a figure, not the benchmark's end
            return CaseRun(complaint_id, time.perf_counter() - started, False, describe_error(error),
                           finished=False)
        finally:
            self.cases.pop(complaint_id, None)

    def _act(self, complaint_id: str, drive: _Drive, state: ComplaintState) -> None:
        question = state.pending_question
        if question is not None and ("q", f"{question.question_id}@{question.asked_at}") not in drive.done:
            drive.done.add(("q", f"{question.question_id}@{question.asked_at}"))
            answer = drive.story.answers.get(question.question_id, question.options[0])
            drive.tasks.append(asyncio.create_task(self._send(
                drive, self.client.answer(complaint_id, question.question_id, answer,
                                          self.logins.token(CUSTOMER)))))
        for adjustment in state.adjustments.values():
            key = ("a", adjustment.adjustment_id)
            if adjustment.needs_approval and adjustment.status == "proposed" and key not in drive.done:
                drive.done.add(key)
                approve, reason = drive.story.approvals.get(adjustment.kind, (True, "checked against the records"))
                drive.tasks.append(asyncio.create_task(self._send(drive, self.client.decide(
                    complaint_id, adjustment.adjustment_id, approve=approve,
                    credential=self.logins.token(SUPERVISOR), reason=reason))))

    @staticmethod
    async def _send(drive: _Drive, command: Any) -> None:
        try:
            await command
        except Exception as error:  # recorded against the case, which then counts as failed
            drive.errors.append(f"{type(error).__name__}: {error}")

    async def _watch_read_model(self) -> None:
        async with self.pool.acquire() as conn:
            while True:
                ids = list(self.cases)
                if ids:
                    rows = await conn.fetch(
                        """SELECT complaint_id, state::text AS state FROM complaints
                           WHERE complaint_id = ANY($1::text[])
                             AND (status = ANY($2::text[]) OR state->'pending_question' <> 'null'::jsonb)""",
                        ids, list(AWAITING),
                    )
                    self.queries += 1
                    for row in rows:
                        drive = self.cases.get(row["complaint_id"])
                        if drive is not None:
                            self._act(row["complaint_id"], drive, ComplaintState.model_validate_json(row["state"]))
                await asyncio.sleep(self.poll)


async def run_bare(temporal: Client, task_queue: str, start: BareInput, workflow_id: str,
                   timeout: float) -> CaseRun:
    started = time.perf_counter()
    try:
        handle = await temporal.start_workflow(
            BareComplaintWorkflow.run, start, id=workflow_id, task_queue=task_queue)
        for n in range(start.script.count("update")):
            await handle.execute_update(BareComplaintWorkflow.step, BareMessage(n=n))
        for n in range(start.script.count("signal")):
            await handle.signal(BareComplaintWorkflow.poke, BareMessage(n=n))
        await asyncio.wait_for(handle.result(), timeout)
        return CaseRun(workflow_id, time.perf_counter() - started, True)
    except Exception as error:  # one workflow's failure is a figure, not the benchmark's end
        return CaseRun(workflow_id, time.perf_counter() - started, False, describe_error(error), finished=False)


async def bounded(concurrency: int, jobs: list[Any]) -> list[Any]:
    """Run coroutine factories with at most `concurrency` at once, in order of the list."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Any) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


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


async def _reset_sandboxes(pool: asyncpg.Pool, partner_url: str) -> None:
    async with pool.acquire() as conn:
        await rearm_stories(conn)
    async with aiohttp.ClientSession() as session, session.post(f"{partner_url}/admin/reset") as response:
        response.raise_for_status()


async def _probe(driver: EngineDriver, categories: dict[Category, list[Story]], run_id: str,
                 ) -> tuple[list[Category], dict[str, str], dict[str, Shape]]:
    """One case per candidate category: those that close join the mix, with their shape."""
    probes = {category: f"PROBE-{run_id}-{category.value.replace('_', '-')}" for category in categories}
    runs = await asyncio.gather(*(driver.run(categories[c][0], cid) for c, cid in probes.items()))
    await drain(driver.client.temporal, f"archive-PROBE-{run_id}-", 60)
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
    section = Section("throughput", "End-to-end throughput: engine vs bare Temporal workflow")
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
                reason = "no story in cli/stories to drive it"
            if reason:
                excluded[category.value] = reason
            else:
                candidates[category] = stories[category]
        progress(f"throughput: probing {', '.join(c.value for c in candidates) or 'nothing'}")
        await _reset_sandboxes(pool, partner_url)
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

        async def timed(side: str, jobs: list[Any], worker: WorkerProcess, children: str,
                        spy: PySpy | None = None) -> list[CaseRun]:
            """Run one side's cases; its time runs until their child workflows are done too."""
            meter = CpuMeter({"temporal server": fixed(server.pid), "worker": fixed(worker.pid), "postgres": pg_pids})
            await meter.start()
            async with spy or contextlib.nullcontext():
                watch = Stopwatch()
                runs = await bounded(concurrency, jobs)
                await drain(temporal, children, timeout)
                seconds = watch.seconds
            totals[side].add(runs, seconds, await meter.stop())
            return runs

        for r, round_plan in enumerate(per_round):
            await _reset_sandboxes(pool, partner_url)
            ids = [f"TP-{run_id}-{r}-{i:05d}" for i in range(len(round_plan))]
            progress(f"throughput: round {r + 1}/{rounds}, engine, {len(round_plan)} cases")
            spy = PySpy(engine_worker.pid, profile_dir / f"engine-worker-round{r + 1}.txt") if profile_dir else None
            jobs = [(lambda s=story, c=cid: driver.run(s, c)) for story, cid in zip(round_plan, ids, strict=True)]
            runs = await timed("engine", jobs, engine_worker, f"archive-TP-{run_id}-{r}-", spy)
            if spy and spy.error:
                section.notes.append(f"profile: {spy.error}")
            elif spy and profile is None:
                profile = summarise(spy.output)
                profile["raw"] = str(spy.output)
            # The bare rounds replay exactly what these engine cases did in Temporal, failures included.
            finished = [cid for cid, run in zip(ids, runs, strict=True) if run.finished]
            shapes = list(await bounded(20, [(lambda c=c: shape_of(temporal, c)) for c in finished]))
            totals["engine"].shapes += shapes
            for side, footprint in (("bare", False), ("bare+footprint", True)):
                progress(f"throughput: round {r + 1}/{rounds}, {side}, {len(shapes)} workflows")
                prefix = f"{side.upper().replace('+', '-')}-{run_id}-{r}-"
                bare_ids = [f"{prefix}{i:05d}" for i in range(len(shapes))]
                inputs = [shape.bare_input(footprint) for shape in shapes]
                bare_runs = await timed(side, [
                    (lambda s=start, w=wid: run_bare(temporal, bare_worker.task_queue, s, w, timeout))
                    for start, wid in zip(inputs, bare_ids, strict=True)], bare_worker, prefix)
                sample = [wid for wid, run in zip(bare_ids, bare_runs, strict=True) if run.ok][:5]
                totals[side].shapes += [await shape_of(temporal, wid) for wid in sample]
        _report(section, totals, mix, probe_shapes, driver, profile)


def _report(section: Section, totals: dict[str, SideTotals], mix: list[Category], probe_shapes: dict[str, Shape],
            driver: EngineDriver, profile: dict[str, Any] | None) -> None:
    engine, bare, footprint = (totals[side] for side in SIDES)
    ratio = engine.rate / bare.rate if bare.rate else None
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
    metrics["ratio_engine_to_bare"] = round(ratio, 3) if ratio else None
    metrics["ratio_engine_to_bare_footprint"] = round(engine.rate / footprint.rate, 3) if footprint.rate else None
    if engine.shapes:
        n = len(engine.shapes)
        metrics["per_engine_case"] = {
            step: round(sum(s.count(step) for s in engine.shapes) / n, 2)
            for step in _COUNTED_STEPS
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
    section.target = "engine >= 0.8x the bare workflow's complaints/s"
    section.target_met = None if ratio is None else ratio >= 0.8
    if ratio:
        section.notes.append(
            f"ratio engine/bare = {ratio:.2f}; engine/bare+footprint = {metrics['ratio_engine_to_bare_footprint']:.2f} "
            "(finished cases per second; the bare sides replay every finished engine case's shape, failed ones "
            "included, so they do the same Temporal work)")
    section.notes.append("mix: " + ", ".join(c.value for c in mix))
    for category, reason in section.params.get("excluded", {}).items():
        section.notes.append(f"not in the mix: {category}: {reason}")
    if engine.shapes:
        per = metrics["per_engine_case"]
        section.notes.append(
            f"per engine case: {per['activity']} activities (event-store saves included), {per['update']} updates, "
            f"{per['signal']} signals, {per['child_workflows']} child workflows running {per['child_activities']} "
            "activities (the archiver): bare does the same; "
            f"bare+footprint also does the engine's {per['upsert']} search-attribute upserts, {per['timer']} timers "
            f"and {per['activity_input_bytes']:,} bytes of activity input")
    if profile:
        top = ", ".join(f"{name} {share}%" for name, share in profile["by_package_percent"][:6])
        section.notes.append(f"engine worker CPU (py-spy, GIL held) by package: {top}")
    for name, side in totals.items():
        for reason, count in side.reasons.most_common(4):
            section.notes.append(f"{name}: {count} case(s) did not close: {reason}")
