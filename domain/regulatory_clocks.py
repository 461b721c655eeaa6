"""When a case's regulatory clocks next need the workflow: the MIIT answer deadline's warning and breach. Pure.

The MIIT clock runs from filing until the carrier answers (the case is resolved); nothing pauses it. Its
warning comes at the policy's warn share of the wall time to the deadline; on breach the case escalates to
regional support, whatever rung the internal SLA has reached (the regulator's deadline is the region's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain import events as ev
from domain.regulatory import MIIT_ANSWER, miit_warn_at
from domain.state import ComplaintState


@dataclass(frozen=True)
class RegulatoryMark:
    clock: str
    kind: Literal["warn", "breach"]
    at: datetime
    due_at: datetime


def next_regulatory_mark(state: ComplaintState, timeline: Iterable[ev.Event]) -> RegulatoryMark | None:
    """The next moment the MIIT clock warns or breaches, or None (answered, already breached, or no clock)."""
    due = state.miit_answer_due
    if due is None or state.resolved_at is not None or not state.is_open:
        return None
    done = {(type(e), e.clock) for e in timeline if isinstance(e, (ev.SlaWarned, ev.SlaBreached))}
    if (ev.SlaBreached, MIIT_ANSWER) in done:
        return None
    if (ev.SlaWarned, MIIT_ANSWER) not in done:
        return RegulatoryMark(MIIT_ANSWER, "warn", miit_warn_at(state.filed_at, due, state.rules.warn_percent), due)
    return RegulatoryMark(MIIT_ANSWER, "breach", due, due)
