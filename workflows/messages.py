"""One input model per workflow, update and query, so fields can be added without breaking running cases."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.actors import Actor
from domain.cases import Category
from domain.events import AnyEvent
from domain.intake import ComplaintIntake
from domain.sla import SlaPolicy
from domain.state import ComplaintState


def _printable(text: str) -> str:
    # PostgreSQL cannot store NUL in text or jsonb: refusing it here keeps such input from ever
    # reaching a case's history, where its save could never succeed.
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Text = Annotated[str, AfterValidator(_printable)]
"""Free text kept exactly as typed, but for NUL, which no database column can hold."""


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True)


class EngineOptions(_Message):
    """Settings the workflow needs, handed in by the starter so the workflow never reads the environment."""

    approval_limit_fen: int = Field(default=5000, ge=0)
    warn_percent: int = Field(default=80, gt=0, lt=100)
    task_queue: str = "complaints"
    # A deployment's own deadlines for some categories, replacing domain.sla's defaults.
    sla_overrides: dict[Category, SlaPolicy] = Field(default_factory=dict)
    reopen_window_days: int = Field(default=7, ge=0)


class ComplaintInput(_Message):
    intake: ComplaintIntake
    msisdn_token: str
    options: EngineOptions = EngineOptions()
    # Set when a closed case is reopened: the new run continues from these events.
    history: list[AnyEvent] = Field(default_factory=list)
    reopen_reason: str | None = None
    reopened_by: Actor | None = None


class CaseOutcome(_Message):
    complaint_id: str
    status: str
    outcome: str | None
    close_reason: str | None
    money_moved_fen: int
    events: int


class CustomerAnswer(_Message):
    question_id: str
    answer: Text
    comment: Text = Field(default="", max_length=2000)
    actor: Actor


class ApprovalDecision(_Message):
    adjustment_id: str
    approve: bool
    reason: Text = Field(default="", max_length=2000)
    actor: Actor


class Note(_Message):
    text: Text = Field(min_length=1, max_length=4000)
    actor: Actor


class Reassignment(_Message):
    to_assignee: Text = Field(min_length=1, max_length=64)
    reason: Text = Field(default="", max_length=500)
    actor: Actor


class ManualResolution(_Message):
    """A person resolves the case (a reopened case is worked by hand, never re-run automatically)."""

    outcome: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    summary: Text = Field(min_length=1, max_length=2000)
    actor: Actor


class Withdrawal(_Message):
    reason: Text = Field(min_length=1, max_length=500)
    actor: Actor


class CaseView(_Message):
    """What the `view` query returns: the state and the timeline."""

    state: ComplaintState
    timeline: list[AnyEvent]
