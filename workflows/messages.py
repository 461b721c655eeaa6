"""One input model per workflow, update and query, so fields can be added without breaking running cases."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.actors import Actor, ActorChannel
from domain.events import AnyEvent
from domain.intake import ComplaintIntake
from domain.remediation import RemediationLink
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


class Act(_Message):
    """An act of a person: who acts is proven by `token`, a JWT signed by an issuer the worker trusts.

    The update's validator verifies it (auth.trust); the handler records the actor the token names, with
    the channel the act came through. A caller-declared actor (an old client's `actor` field) is ignored.
    Tokens can be long (an OIDC provider's RS256 JWT with claims): 8 KiB is ample.
    """

    token: str = Field(default="", max_length=8192, repr=False)
    channel: ActorChannel = ActorChannel.API


class ComplaintInput(_Message):
    """What starts a case's run.

    It carries no rules: the policy is the worker's (see domain.policy), and fields a caller adds (an old client's
    `options` or `history`) are ignored.

    Who files (or reopens) is proven like every act: `token` is their signed token, verified by the worker
    when the run opens (activities.trust). `intake.filed_by` and `reopened_by` are what the caller claims;
    the case records the verified actor instead, and a run whose token proves nobody files nothing.
    """

    intake: ComplaintIntake
    msisdn_token: str
    token: str = Field(default="", max_length=8192, repr=False)
    channel: ActorChannel = ActorChannel.API
    # Set when a closed case is reopened. The new run reads the case's events (and with them the policy
    # it keeps) from the event store itself, never from the caller.
    reopening: bool = False
    reopen_reason: str | None = None
    reopened_by: Actor | None = None
    # Set when a remediation campaign opened the case (workflows/remediation_campaign.py): the batch, the
    # harm and the cited batch rows, recorded as the case's first evidence.
    remediation: RemediationLink | None = None

    @property
    def is_reopening(self) -> bool:
        """Whether this start reopens a closed case."""
        return self.reopening or self.reopened_by is not None


class CaseOutcome(_Message):
    complaint_id: str
    status: str
    outcome: str | None
    close_reason: str | None
    money_moved_fen: int
    events: int


class CustomerAnswer(Act):
    question_id: str
    answer: Text
    comment: Text = Field(default="", max_length=2000)
    # Staff relaying what the customer said name whom they speak for ("customer"); the customer leaves it unset.
    on_behalf_of: str | None = Field(default=None, max_length=32)


class ApprovalDecision(Act):
    adjustment_id: str
    approve: bool
    reason: Text = Field(default="", max_length=2000)


class Note(Act):
    text: Text = Field(min_length=1, max_length=4000)


class Reassignment(Act):
    to_assignee: Text = Field(min_length=1, max_length=64)
    reason: Text = Field(default="", max_length=500)


class ManualResolution(Act):
    """A person resolves the case (a reopened case is worked by hand, never re-run automatically)."""

    outcome: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    summary: Text = Field(min_length=1, max_length=2000)


class Withdrawal(Act):
    reason: Text = Field(min_length=1, max_length=500)


class SlaRepair(Act):
    """Recompute the case's deadlines on the deployment's corrected calendar days (`starter sla repair`)."""

    reason: Text = Field(min_length=1, max_length=500)


class CaseView(_Message):
    """What the `view` query returns: the state and the timeline."""

    state: ComplaintState
    timeline: list[AnyEvent]
