"""What the console's pages show, computed from a case's state and events: pure, so tests read it directly.

The wording of each timeline line is the CLI's (cli.timeline.describe): one story, told the same way in
the terminal and the browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cli.timeline import citation_lines, describe
from client.api import CaseSummary
from domain import events as ev
from domain.clock import format_local
from domain.money import format_yuan
from domain.state import ComplaintState, SlaClock


@dataclass(frozen=True)
class Badge:
    """An SLA state said in words (and a CSS class for its colour: colour never carries it alone)."""

    label: str
    css: str


ON_TIME = Badge("on time", "ok")
AT_RISK = Badge("due soon", "warn")
WARNED = Badge("warned", "warn")
BREACHED = Badge("breached", "breach")
PAUSED = Badge("paused / no running clock", "paused")
STOPPED = Badge("stopped", "paused")


def queue_badge(row: CaseSummary, now: datetime, at_risk_window: timedelta) -> Badge:
    """The queue's SLA badge, from visibility's earliest running deadline (none: every clock paused)."""
    if row.sla_due_at is None:
        return PAUSED
    if row.sla_due_at < now:
        return BREACHED
    if row.sla_due_at - now <= at_risk_window:
        return AT_RISK
    return ON_TIME


def due_in(row: CaseSummary, now: datetime) -> str:
    """The SLA deadline in local time and how long until (or since) it, or '-' when there is none."""
    if row.sla_due_at is None:
        return "-"
    minutes = int((row.sla_due_at - now).total_seconds() // 60)
    span = f"{abs(minutes) // 60} h {abs(minutes) % 60} min"
    return f"{format_local(row.sla_due_at)} ({'in ' + span if minutes >= 0 else span + ' late'})"


@dataclass(frozen=True)
class Mark:
    """A point on a clock's bar: percent from the left, what it is, and when (Shanghai time)."""

    percent: float
    label: str
    when: str


@dataclass(frozen=True)
class Stretch:
    start: float
    width: float
    label: str


@dataclass(frozen=True)
class ClockBar:
    """An SLA clock drawn from its start to its deadline (or now, if later): elapsed, paused, marks."""

    name: str
    badge: Badge
    elapsed_percent: float
    summary: str
    marks: list[Mark] = field(default_factory=list)
    paused: list[Stretch] = field(default_factory=list)


def _percent(moment: datetime, start: datetime, end: datetime) -> float:
    span = (end - start).total_seconds() or 1.0
    return round(max(0.0, min(100.0, (moment - start).total_seconds() * 100 / span)), 2)


def clock_bars(state: ComplaintState, timeline: Sequence[ev.Event], now: datetime) -> list[ClockBar]:
    """One bar per SLA clock, in wall time: a paused stretch pushes the deadline on by its length."""
    bars = []
    for clock in state.clocks.values():
        stopped_at = _last_at(timeline, ev.SlaClockStopped, clock.clock) if clock.stopped else None
        until = stopped_at or now
        paused_now = (now - clock.paused_since) if clock.paused_since else timedelta(0)
        due = clock.started_at + timedelta(seconds=clock.budget_seconds, milliseconds=clock.paused_ms) + paused_now
        warn = clock.started_at + timedelta(
            seconds=clock.budget_seconds * clock.warn_percent // 100, milliseconds=clock.paused_ms
        ) + paused_now
        end = max(due, until)
        marks = [
            Mark(_percent(warn, clock.started_at, end), f"warn at {clock.warn_percent}%", format_local(warn)),
            Mark(_percent(due, clock.started_at, end), "deadline", format_local(due)),
        ]
        marks += [
            Mark(_percent(e.at, clock.started_at, end), f"escalated to level {e.level}", format_local(e.at))
            for e in timeline
            if isinstance(e, ev.CaseEscalated) and clock.started_at <= e.at <= end
        ]
        paused = [
            Stretch(_percent(start, clock.started_at, end),
                    round(_percent(stop, clock.started_at, end) - _percent(start, clock.started_at, end), 2),
                    f"paused {format_local(start)} to {format_local(stop)}: {reason}")
            for start, stop, reason in _paused_stretches(timeline, clock.clock, now)
        ]
        bars.append(ClockBar(
            name=clock.clock,
            badge=_clock_badge(clock, until, due, warn),
            elapsed_percent=_percent(until, clock.started_at, end),
            summary=f"started {format_local(clock.started_at)}, deadline {format_local(due)}"
            + (f", stopped {format_local(stopped_at)}" if stopped_at else ""),
            marks=marks,
            paused=paused,
        ))
    return bars


def _clock_badge(clock: SlaClock, until: datetime, due: datetime, warn: datetime) -> Badge:
    if clock.breaches or until > due:
        return BREACHED
    if clock.stopped:
        return STOPPED
    if clock.paused_since is not None:
        return PAUSED
    if clock.warned or until >= warn:
        return WARNED
    return ON_TIME


def _last_at(timeline: Sequence[ev.Event], kind: type[ev.Event], clock: str) -> datetime | None:
    found = [e.at for e in timeline if isinstance(e, kind) and getattr(e, "clock", None) == clock]
    return found[-1] if found else None


def _paused_stretches(timeline: Sequence[ev.Event], clock: str, now: datetime) -> list[tuple[datetime, datetime, str]]:
    stretches: list[tuple[datetime, datetime, str]] = []
    since: ev.SlaClockPaused | None = None
    for event in timeline:
        if isinstance(event, ev.SlaClockPaused) and event.clock == clock:
            since = event
        elif isinstance(event, ev.SlaClockResumed) and event.clock == clock and since is not None:
            stretches.append((since.at, event.at, since.reason))
            since = None
    if since is not None:
        stretches.append((since.at, now, since.reason + " (still paused)"))
    return stretches


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    when: str
    actor: str
    kind: str
    text: str
    details: list[str]


def timeline_entries(timeline: Sequence[ev.Event]) -> list[TimelineEntry]:
    """The case's events as the story: each line as the CLI says it, with the evidence facts and citations."""
    return [
        TimelineEntry(
            seq=event.seq,
            when=format_local(event.at),
            actor=str(event.actor),
            kind=event.type,
            text=describe(event),
            details=_facts(event) + citation_lines(event),
        )
        for event in timeline
    ]


def _facts(event: ev.Event) -> list[str]:
    """An evidence step's facts, one line each, money in yuan (a `_fen` fact is shown as yuan)."""
    if not isinstance(event, ev.EvidenceRecorded):
        return []
    return [f"{name}: {_fact_value(name, value)}" for name, value in event.facts.items()]


def _fact_value(name: str, value: Any) -> str:
    """A fact as words: amounts in fen shown in yuan however deep they sit, long lists cut short."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int) and name.endswith("_fen"):
        return format_yuan(value)
    if isinstance(value, dict):
        # {"billing": 7311, ...} under totals_fen: every amount in it is fen.
        inner = name if name.endswith("_fen") else ""
        return "{" + ", ".join(f"{k}: {_fact_value(inner or str(k), v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        shown = [_fact_value(name if name.endswith("_fen") else "", v) for v in value[:6]]
        return "[" + ", ".join(shown) + (f", ... ({len(value)} in all)" if len(value) > 6 else "") + "]"
    return str(value)
