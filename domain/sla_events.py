"""The SLA clocks' and the escalation ladder's events, re-exported by domain.events (import them from there).

A case's deadlines as facts: a clock started, paused, resumed, stopped or recalculated on corrected days; a
warning, a breach, a rung climbed; a durable follow-up scheduled after the case is settled.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from domain.actors import Role
from domain.business_calendar import BusinessCalendar
from domain.event_envelope import Event


class SlaWarned(Event):
    type: Literal["SlaWarned"] = "SlaWarned"
    clock: str
    due_at: AwareDatetime


class SlaBreached(Event):
    type: Literal["SlaBreached"] = "SlaBreached"
    clock: str
    due_at: AwareDatetime


class CaseEscalated(Event):
    type: Literal["CaseEscalated"] = "CaseEscalated"
    level: int = Field(ge=1)
    to_role: Role
    reason: str


class SlaClockStarted(Event):
    """A deadline starts running: `budget_seconds` of unpaused time, warned at `warn_percent` of it."""

    type: Literal["SlaClockStarted"] = "SlaClockStarted"
    clock: str
    budget_seconds: int = Field(gt=0)
    warn_percent: int = Field(gt=0, lt=100)


class SlaClockStopped(Event):
    """The deadline was met (or no longer applies): no more warnings or breaches for this clock."""

    type: Literal["SlaClockStopped"] = "SlaClockStopped"
    clock: str


class SlaClockPaused(Event):
    type: Literal["SlaClockPaused"] = "SlaClockPaused"
    clock: str
    reason: str


class SlaClockResumed(Event):
    type: Literal["SlaClockResumed"] = "SlaClockResumed"
    clock: str
    paused_ms: int = Field(ge=0)


class SlaRecalculated(Event):
    """The case's calendars were corrected (a holiday published late): its deadlines move, history stays."""

    type: Literal["SlaRecalculated"] = "SlaRecalculated"
    calendar: BusinessCalendar
    regulator_calendar: BusinessCalendar | None = None
    policy_version: str  # the deployment's policy the corrected days were taken from
    reason: str = Field(min_length=1, max_length=500)


class FollowUpScheduled(Event):
    """A durable follow-up after the case itself is settled (e.g. extend validity if suspended then)."""

    type: Literal["FollowUpScheduled"] = "FollowUpScheduled"
    follow_up: str
    due_at: AwareDatetime
    workflow_id: str
