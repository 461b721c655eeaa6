"""The SLA watcher.

Beside the playbook, it sleeps until a running clock's next mark, then commits what the domain says is due (a warning,
or a breach that escalates: domain.commands.deadlines) and tells that person, in one activity
(Case.notify saves the events first).

The marks are business time on each clock's calendar; the regulatory clocks (domain.regulatory_clocks: the
MIIT answer deadline, each partner window) are watched beside them. It wakes early whenever a clock changes
(paused, resumed, stopped, or its calendar corrected by SlaRecalculated), so a pause moves the deadline by
exactly the pause and a repaired calendar takes effect at once. Workflow code: timers and waits only.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import commands
    from domain.regulatory_clocks import RegulatoryMark, next_regulatory_mark
    from domain.sla import SlaPolicy, escalation_role

if TYPE_CHECKING:
    from workflows.case import Case


async def watch(case: Case, policy: SlaPolicy) -> None:
    """Warn and escalate on each running clock's deadlines, until the case closes."""
    while case.current.is_open:
        version = case.clock_version
        mark = commands.next_mark(case.current, policy)
        regulatory = next_regulatory_mark(case.current, case.timeline)
        if regulatory is not None and (mark is None or regulatory.at < mark):
            mark = regulatory.at
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
        # Still open: the case may have closed while the SLA's notice went out.
        if regulatory is not None and case.current.is_open and workflow.now() >= regulatory.at:
            await _regulatory_mark_reached(case, regulatory)


def _clock_changed(case: Case, since_version: int) -> bool:
    return case.clock_version != since_version or not case.current.is_open


async def _marks_reached(case: Case, policy: SlaPolicy) -> None:
    now = workflow.now()
    for name in list(case.current.clocks):
        if not case.current.is_open:  # closed while the last notice went out: nothing more is due
            return
        reached = commands.mark_reached(case.current, policy, name, now)
        clock = case.current.clocks[name]
        due = clock.due_at
        if reached is None or due is None:
            continue
        if reached == "warn":
            case.commit(commands.warn(case.current, now, name))
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
        await case.notify(
            f"escalate-{name}-{level}",
            role.value,
            role.value,
            f"Case {case.complaint_id} escalated to you (level {level})",
            f"The {name} deadline passed at {due.isoformat()}.",
        )


async def _regulatory_mark_reached(case: Case, mark: RegulatoryMark) -> None:
    """A regulatory clock's warning, or its breach: told to whom the clock names (domain.regulatory_clocks)."""
    now = workflow.now()
    if mark.kind == "warn":
        case.commit(commands.regulatory_warn(case.current, now, mark))
        await case.notify(
            f"warn-{mark.clock}",
            "agent",
            case.current.assignee,
            f"Case {case.complaint_id}: {mark.clock} due {mark.due_at.isoformat()}",
            "A regulatory deadline is close.",
        )
        return
    case.commit(commands.regulatory_breach(case.current, now, mark))
    await case.notify(
        f"escalate-{mark.clock}",
        mark.escalate_to,
        mark.escalate_to,
        f"Case {case.complaint_id}: {mark.clock} deadline passed",
        f"The {mark.clock} deadline passed at {mark.due_at.isoformat()}.",
    )
