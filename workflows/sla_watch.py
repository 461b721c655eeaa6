"""The SLA watcher: beside the playbook, it sleeps until a running clock's next mark, then commits what the
domain says is due (a warning, or a breach that escalates: domain.commands.deadlines) and tells that person.

It wakes early whenever a clock changes (paused, resumed, stopped), so a pause moves the deadline by exactly
the pause. Workflow code: timers and waits only.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import commands
    from domain.sla import SlaPolicy, escalation_role

if TYPE_CHECKING:
    from workflows.case import Case


async def watch(case: Case, policy: SlaPolicy) -> None:
    """Warn and escalate on each running clock's deadlines, until the case closes."""
    while case.current.is_open:
        version = case.clock_version
        mark = commands.next_mark(case.current, policy)
        changed = functools.partial(_clock_changed, case, version)
        if mark is None:
            await workflow.wait_condition(changed)
            continue
        delay = mark - workflow.now()
        if delay > timedelta(0):
            with contextlib.suppress(TimeoutError):  # the mark came first
                await workflow.wait_condition(changed, timeout=delay)
            continue
        await _marks_reached(case, policy)


def _clock_changed(case: Case, since_version: int) -> bool:
    return case.clock_version != since_version or not case.current.is_open


async def _marks_reached(case: Case, policy: SlaPolicy) -> None:
    now = workflow.now()
    for name in list(case.current.clocks):
        reached = commands.mark_reached(case.current, policy, name, now)
        clock = case.current.clocks[name]
        due = clock.due_at
        if reached is None or due is None:
            continue
        if reached == "warn":
            case.commit(commands.warn(case.current, now, name))
            await case.save()
            await case.notify(
                f"warn-{name}-{clock.breaches}",
                "agent",
                case.current.assignee,
                f"Case {case.complaint_id}: {name} deadline at {due:%H:%M} UTC",
                "The deadline is close.",
            )
            continue
        case.commit(commands.breach(case.current, now, name))
        level = case.current.escalation_level
        role = escalation_role(level)
        await case.save()
        await case.notify(
            f"escalate-{name}-{level}",
            role.value,
            role.value,
            f"Case {case.complaint_id} escalated to you (level {level})",
            f"The {name} deadline passed at {due.isoformat()}.",
        )
