"""Driving engine cases for the benchmarks: file a story, answer for its people, time it to closed.

Also the bare side's one-case runner and a bounded gather, shared by the throughput, memory and timer
benchmarks.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Self

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from bench.bare import BareComplaintWorkflow, BareInput, BareMessage
from bench.common import bench_issuer
from cli.demo import StoryLogins
from client.api import ComplaintClient
from domain.state import ComplaintState
from stories.people import CUSTOMER, SUPERVISOR
from stories.story import Story

TOKEN_KEY = "bench-token-key-0123456789abcdef"
AWAITING = ("awaiting_customer", "awaiting_approval")


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
            handle = await self.client.file(intake, self.logins.token(intake.filed_by))
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
            answer = drive.story.answer(question.question_id, question.options)
            drive.tasks.append(asyncio.create_task(self._send(
                drive, self.client.answer(complaint_id, question.question_id, answer,
                                          self.logins.token(CUSTOMER)))))
        for adjustment in state.adjustments.values():
            key = ("a", adjustment.adjustment_id)
            if adjustment.needs_approval and adjustment.status == "proposed" and key not in drive.done:
                drive.done.add(key)
                approve, reason = drive.story.decision(adjustment.kind)
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
