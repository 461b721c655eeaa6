"""Domain events: frozen, past-tense facts about one case; its state is only ever their fold (domain.state).

Each carries its case id, sequence, time, actor and schema version (the envelope, domain.event_envelope). The
SLA clocks' and escalation's events live in domain.sla_events and are re-exported here, so every event is read
as `domain.events.X` and `AnyEvent` names them all.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, TypeAdapter

from domain.cases import Category, IntakeChannel, Priority
from domain.citations import Citation, RecordKind
from domain.event_envelope import Event as Event
from domain.money import Fen
from domain.policy import CasePolicy
from domain.sla_events import CaseEscalated as CaseEscalated
from domain.sla_events import FollowUpScheduled as FollowUpScheduled
from domain.sla_events import SlaBreached as SlaBreached
from domain.sla_events import SlaClockPaused as SlaClockPaused
from domain.sla_events import SlaClockResumed as SlaClockResumed
from domain.sla_events import SlaClockStarted as SlaClockStarted
from domain.sla_events import SlaClockStopped as SlaClockStopped
from domain.sla_events import SlaRecalculated as SlaRecalculated
from domain.sla_events import SlaWarned as SlaWarned

# --- intake and handling -----------------------------------------------------------------------


class ComplaintFiled(Event):
    type: Literal["ComplaintFiled"] = "ComplaintFiled"
    category: Category
    priority: Priority
    channel: IntakeChannel
    msisdn: str
    customer_name: str
    description: str
    id_number: str | None = None
    partner_msisdn: str | None = None
    partner_carrier: str | None = None
    # The server's rules this case runs under, for its whole life (None: filed before policies had versions).
    policy: CasePolicy | None = None
    # When the disputed charge or matter began, as the customer says (None: not given, or filed before it was asked).
    disputed_since: date | None = None


class ComplaintRejected(Event):
    """The complaint is not accepted at intake: a regulator's rule (by name) excludes it. The case ends here.

    Recorded right after ComplaintFiled, so what was filed stays on the record; no clock starts, no playbook runs.
    """

    type: Literal["ComplaintRejected"] = "ComplaintRejected"
    rule: str
    reason: str
    oldest_accepted: date


class ComplaintAcknowledged(Event):
    type: Literal["ComplaintAcknowledged"] = "ComplaintAcknowledged"
    assignee: str
    message: str


class EvidenceRecorded(Event):
    """What a step found, kept so every decision can point at the facts it rests on."""

    type: Literal["EvidenceRecorded"] = "EvidenceRecorded"
    step: str
    summary: str
    facts: dict[str, Any] = Field(default_factory=dict)


class DecisionRecorded(Event):
    """A playbook decision and the evidence steps it rests on."""

    type: Literal["DecisionRecorded"] = "DecisionRecorded"
    decision: str
    reason: str
    evidence_steps: list[str] = Field(default_factory=list)


class IdentityVerified(Event):
    type: Literal["IdentityVerified"] = "IdentityVerified"
    method: str


class IdentityRejected(Event):
    type: Literal["IdentityRejected"] = "IdentityRejected"
    reason: str


class NoteAdded(Event):
    type: Literal["NoteAdded"] = "NoteAdded"
    text: str


class CaseReassigned(Event):
    type: Literal["CaseReassigned"] = "CaseReassigned"
    from_assignee: str
    to_assignee: str
    reason: str


# --- partners and the billing system ----------------------------------------------------------


class PartnerRequestSent(Event):
    type: Literal["PartnerRequestSent"] = "PartnerRequestSent"
    partner: str
    action: str
    request_key: str


class PartnerRequestConfirmed(Event):
    type: Literal["PartnerRequestConfirmed"] = "PartnerRequestConfirmed"
    partner: str
    action: str
    request_key: str
    effective: bool
    result: dict[str, Any] = Field(default_factory=dict)


class PartnerRequestFailed(Event):
    type: Literal["PartnerRequestFailed"] = "PartnerRequestFailed"
    partner: str
    action: str
    request_key: str
    reason: str


class BillingActionApplied(Event):
    """A change made in the billing system (BOSS) other than money: notices, blocks, reports, incidents."""

    type: Literal["BillingActionApplied"] = "BillingActionApplied"
    action: str
    idempotency_key: str
    effective: bool
    details: dict[str, Any] = Field(default_factory=dict)


# --- the customer -------------------------------------------------------------------------------


class CustomerAsked(Event):
    type: Literal["CustomerAsked"] = "CustomerAsked"
    question_id: str
    question: str
    options: list[str]


class CustomerAnswered(Event):
    type: Literal["CustomerAnswered"] = "CustomerAnswered"
    question_id: str
    answer: str
    comment: str = ""
    # Set when someone other than the customer relays the customer's answer (e.g. "customer").
    on_behalf_of: str | None = None


class CustomerReminded(Event):
    type: Literal["CustomerReminded"] = "CustomerReminded"
    question_id: str
    reminder: int


# --- money --------------------------------------------------------------------------------------

AdjustmentKind = Literal["refund", "double_refund", "validity_extension", "arrears_waiver", "sp_unsubscription"]


class AdjustmentProposed(Event):
    type: Literal["AdjustmentProposed"] = "AdjustmentProposed"
    adjustment_id: str
    kind: AdjustmentKind
    amount_fen: Fen
    reason: str
    needs_approval: bool
    validity_until: date | None = None
    sp_code: str | None = None
    # The records the adjustment rests on (ids and content hashes); empty in events from before citations.
    citations: list[Citation] = Field(default_factory=list)


class AdjustmentApproved(Event):
    type: Literal["AdjustmentApproved"] = "AdjustmentApproved"
    adjustment_id: str
    comment: str = ""


class AdjustmentRefused(Event):
    type: Literal["AdjustmentRefused"] = "AdjustmentRefused"
    adjustment_id: str
    reason: str


class AdjustmentApplied(Event):
    type: Literal["AdjustmentApplied"] = "AdjustmentApplied"
    adjustment_id: str
    kind: AdjustmentKind
    amount_fen: Fen
    idempotency_key: str
    ledger_id: str
    effective: bool
    citations: list[Citation] = Field(default_factory=list)


class AdjustmentAlreadyRemedied(Event):
    """The billing system refused the adjustment: a charge it cites was already remedied. No money moved."""

    type: Literal["AdjustmentAlreadyRemedied"] = "AdjustmentAlreadyRemedied"
    # v2: the charge by its parts (v1 had one "kind:record_id" string, split on reading: domain.upcasting).
    version: int = 2
    adjustment_id: str
    charge_kind: RecordKind
    charge_record_id: str
    prior_complaint_id: str
    prior_ledger_id: str
    prior_applied_at: AwareDatetime
    idempotency_key: str

    @property
    def charge(self) -> str:
        """The charge key, kind:record_id (Citation.key): one remedy per charge key, ever."""
        return f"{self.charge_kind}:{self.charge_record_id}"


# --- ending -------------------------------------------------------------------------------------


class ComplaintResolved(Event):
    type: Literal["ComplaintResolved"] = "ComplaintResolved"
    outcome: str
    summary: str


class ComplaintClosed(Event):
    type: Literal["ComplaintClosed"] = "ComplaintClosed"
    reason: Literal["confirmed", "unconfirmed", "withdrawn", "rejected", "not_satisfied"]


class ComplaintReopened(Event):
    type: Literal["ComplaintReopened"] = "ComplaintReopened"
    reason: str


class ComplaintWithdrawn(Event):
    type: Literal["ComplaintWithdrawn"] = "ComplaintWithdrawn"
    reason: str


# --- a case that cannot go on by itself --------------------------------------------------------------


class CaseNeedsAttention(Event):
    """A playbook step could not go on (a refusal, an unknown party): a person takes the case from here."""

    type: Literal["CaseNeedsAttention"] = "CaseNeedsAttention"
    step: str
    error_type: str
    reason: str


ReconciledStatus = Literal["terminated", "canceled", "failed", "timed_out"]


class CaseReconciled(Event):
    """The case's workflow stopped without closing the case, as Temporal reports it: what and by whom."""

    type: Literal["CaseReconciled"] = "CaseReconciled"
    run_id: str
    execution_status: ReconciledStatus
    # The request identity (e.g. the CLI or UI user) and the reason Temporal recorded, where it has them.
    identity: str = ""
    reason: str = ""
    stopped_at: AwareDatetime


# --- related cases ------------------------------------------------------------------------------


class LinkedToCase(Event):
    """The open cases of the same number and category, looked up when this one was filed.

    Recorded by every new case: an empty list says the lookup was done and found none. Filing is
    never blocked by it (a second complaint may be about something else).
    """

    type: Literal["LinkedToCase"] = "LinkedToCase"
    linked_complaint_ids: list[str] = Field(default_factory=list)
    reason: str


# --- personal data ------------------------------------------------------------------------------


class PersonalDataErased(Event):
    """The customer's personal data in this case was crypto-shredded (PIPL).

    Its key is destroyed, so the stored number, name and ID number now read `[erased]` everywhere.
    """

    type: Literal["PersonalDataErased"] = "PersonalDataErased"
    key_id: str
    reason: str


AnyEvent = Annotated[
    ComplaintFiled | ComplaintRejected | ComplaintAcknowledged | EvidenceRecorded | DecisionRecorded
    | IdentityVerified | IdentityRejected | NoteAdded | CaseReassigned
    | PartnerRequestSent | PartnerRequestConfirmed | PartnerRequestFailed | BillingActionApplied
    | CustomerAsked | CustomerAnswered | CustomerReminded
    | AdjustmentProposed | AdjustmentApproved | AdjustmentRefused | AdjustmentApplied | AdjustmentAlreadyRemedied
    | SlaWarned | SlaBreached | CaseEscalated
    | SlaClockStarted | SlaClockStopped | SlaClockPaused | SlaClockResumed | SlaRecalculated
    | FollowUpScheduled | ComplaintResolved | ComplaintClosed | ComplaintReopened | ComplaintWithdrawn
    | CaseNeedsAttention | CaseReconciled | LinkedToCase | PersonalDataErased,
    Field(discriminator="type"),
]

# mypy gives up matching a union of over 32 members against TypeAdapter's type[T], saying so or not depending on
# its incremental cache: the ignore allows both, and the annotation says what the adapter is.
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)  # type: ignore[arg-type, unused-ignore]
EVENT_LIST_ADAPTER: TypeAdapter[list[AnyEvent]] = TypeAdapter(list[AnyEvent])


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """An event from its JSON form (a dict from jsonb, or text)."""
    if isinstance(data, (str, bytes)):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)
