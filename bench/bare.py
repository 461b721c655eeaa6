"""The bare baseline: a Temporal workflow doing what a complaint does, with no-op bodies.

Its script is read off a real engine case's history: the same activities, updates and signals in
the same order, and the same child workflows at the end, each running as many activities as the
engine's child did. What the engine adds on top (its events,
folds, saves, the PostgreSQL work) is the overhead the benchmark measures.

`footprint` mode goes further and also copies what the engine asks of Temporal beyond that: its
search-attribute upserts, its SLA timers (started, then cancelled) and its activity inputs' sizes.
The gap between footprint and the engine is then the engine's own Python and database work.
"""

from __future__ import annotations

import asyncio
import functools
import math
from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import activity, workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa

Step = Literal["activity", "update", "signal", "upsert", "timer"]


class BareChild(BaseModel):
    """A child workflow's script: the activities it runs."""

    model_config = ConfigDict(frozen=True)

    script: list[Step] = []
    pads: list[int] = []


class BareInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    script: list[Step]
    # Per step: bytes of padding for an activity's input (footprint mode), else 0 or empty.
    pads: list[int] = []
    children: list[BareChild] = []


class BareMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    pad: str = ""


@activity.defn
async def bare_step(request: BareMessage) -> int:
    return request.n


async def _activity(n: int, pads: list[int]) -> None:
    pad = "x" * pads[n] if pads else ""
    await workflow.execute_activity(bare_step, BareMessage(n=n, pad=pad), start_to_close_timeout=timedelta(seconds=30))


@workflow.defn
class BareChildWorkflow:
    @workflow.run
    async def run(self, start: BareChild) -> int:
        for n, step in enumerate(start.script):
            if step == "activity":
                await _activity(n, start.pads)
        return len(start.script)


@workflow.defn
class BareComplaintWorkflow:
    @workflow.init
    def __init__(self, start: BareInput) -> None:
        self.updates = 0
        self.signals = 0
        self._waiting = False

    @workflow.run
    async def run(self, start: BareInput) -> int:
        updates_used = signals_used = 0
        timers: list[asyncio.Task[None]] = []
        for n, step in enumerate(start.script):
            if step == "activity":
                await _activity(n, start.pads)
            elif step == "update":
                updates_used += 1
                self._waiting = self.updates < updates_used
                await workflow.wait_condition(functools.partial(self._received, "updates", updates_used))
                self._waiting = False
            elif step == "signal":
                signals_used += 1
                await workflow.wait_condition(functools.partial(self._received, "signals", signals_used))
            elif step == "upsert":
                workflow.upsert_search_attributes([sa.STATUS.value_set(f"step-{n}")])
            else:
                timers.append(asyncio.create_task(asyncio.sleep(3600)))
        for timer in timers:
            timer.cancel()
        info = workflow.info()
        for n, child in enumerate(start.children):
            await workflow.start_child_workflow(
                BareChildWorkflow.run,
                child,
                id=f"{info.workflow_id}-child-{n}",
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        return len(start.script)

    def _received(self, kind: str, wanted: int) -> bool:
        return bool(getattr(self, kind) >= wanted)

    @workflow.update
    async def step(self, request: BareMessage) -> int:
        # Accepted at once; the run consumes it when its script reaches the matching step, so the
        # driver needs no polling to know when to send it.
        self.updates += 1
        return request.n

    @workflow.signal
    def poke(self, request: BareMessage) -> None:
        self.signals += 1

    @workflow.query
    def waiting_for_update(self) -> bool:
        """True while the run is blocked on an update it has not received (the memory benchmark waits for it)."""
        return self._waiting


class BareTimerInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    due_at: AwareDatetime
    warn_percent: int


class BareTimerResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    due_at: AwareDatetime  # the clock's start plus its whole-second budget, as the engine's clock
    fired_at: AwareDatetime  # the time of the workflow task the deadline's timer woke
    warn_due_at: AwareDatetime
    warned_at: AwareDatetime


@workflow.defn
class BareTimerWorkflow:
    """The timers benchmark's bare side: the engine's two SLA timers (warning at warn_percent of the
    budget, then the deadline) placed exactly as `bench.sla_workflow` places them, and nothing else.

    Like the engine's case it stays open after its deadline, waiting for the next rung (an hour on), since closing
    a run is server work the engine's burst does not do; the benchmark reads what it saw with the `fired` query.
    """

    def __init__(self) -> None:
        self._result: BareTimerResult | None = None

    @workflow.run
    async def run(self, start: BareTimerInput) -> None:
        started = workflow.now()
        budget = max(math.ceil((start.due_at - started).total_seconds()), 1)
        due = started + timedelta(seconds=budget)
        warn_due = started + timedelta(seconds=budget * start.warn_percent // 100)
        await asyncio.sleep(max((warn_due - workflow.now()).total_seconds(), 0))
        warned = workflow.now()
        await asyncio.sleep(max((due - workflow.now()).total_seconds(), 0))
        self._result = BareTimerResult(due_at=due, fired_at=workflow.now(), warn_due_at=warn_due, warned_at=warned)
        await asyncio.sleep(timedelta(hours=1).total_seconds())  # the engine's next rung: re_escalate_after

    @workflow.query
    def fired(self) -> BareTimerResult | None:
        """When the warning and the deadline fired; None until the deadline has."""
        return self._result


BARE_WORKFLOWS = [BareComplaintWorkflow, BareChildWorkflow, BareTimerWorkflow]
BARE_ACTIVITIES = [bare_step]
