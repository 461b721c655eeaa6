"""What one case did in Temporal, read off its history: the script a bare workflow replays to match it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.bare import BareChild, BareInput, Step


@dataclass(frozen=True)
class Shape:
    """What one case did in Temporal, read off its history (and its child workflows'), in order."""

    script: tuple[Step, ...]
    pads: tuple[int, ...]  # per step: an activity's input size in bytes
    children: tuple[Shape, ...]
    history_events: int  # children's included
    history_bytes: int
    workflow_tasks: int
    # Per step: the activity's type for an activity (e.g. "append_events"), else "".
    names: tuple[str, ...] = ()
    workflow_type: str = ""

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

    def plain_input(self) -> BareInput:
        """What a team would write with Temporal alone: the same business activities (billing, partners,
        adjustments, notifications), updates, signals and child workflows, but no event-store saves, no
        search-attribute upserts and no archive child."""
        script: list[Step] = [step for step, name in zip(self.script, self._names(), strict=True)
                              if step in ("update", "signal") or (step == "activity" and name not in STORE_ACTIVITIES)]
        children = [BareChild(script=[s for s, name in zip(child.script, child._names(), strict=True)
                                      if s == "activity" and name not in STORE_ACTIVITIES])
                    for child in self.children if child.workflow_type not in ARCHIVE_WORKFLOWS]
        return BareInput(script=script, children=children)

    def _names(self) -> tuple[str, ...]:
        return self.names or ("",) * len(self.script)


# What only the engine's event store asks for: the plain side leaves these out.
STORE_ACTIVITIES = frozenset({"append_events"})
ARCHIVE_WORKFLOWS = frozenset({"ArchiveCaseWorkflow"})


COUNTED_STEPS: tuple[Step, ...] = ("activity", "update", "signal", "upsert", "timer")
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
    names: list[str] = []
    children: list[Shape] = []
    workflow_type = ""
    workflow_tasks = 0
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            workflow_type = event.workflow_execution_started_event_attributes.workflow_type.name
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            workflow_tasks += 1
        elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child_id = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            children.append(await shape_of(temporal, child_id))
        step = _STEPS.get(event.event_type)
        if step is None:
            continue
        script.append(step)
        scheduled = event.activity_task_scheduled_event_attributes
        payloads = scheduled.input.payloads if step == "activity" else []
        pads.append(sum(len(payload.data) for payload in payloads))
        names.append(scheduled.activity_type.name if step == "activity" else "")
    return Shape(
        script=tuple(script),
        pads=tuple(pads),
        children=tuple(children),
        history_events=len(history.events) + sum(child.history_events for child in children),
        history_bytes=sum(event.ByteSize() for event in history.events) + sum(c.history_bytes for c in children),
        workflow_tasks=workflow_tasks + sum(child.workflow_tasks for child in children),
        names=tuple(names),
        workflow_type=workflow_type,
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
