"""TMF621 v5 resource models, as far as this engine fills them, and the engine's own extensions.

Field names and types follow the official v5.0.1 document (tests/api check them against its extract). A
value that TMF has no field for lives in a model whose `@type` is this engine's own (`Complaint...`), with
`@baseType` naming the TMF type it extends, as TMF's extension pattern says.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.aliases import tmf
from domain.tmf_status import TmfStatus

OUR_TICKET_TYPE = "ComplaintTroubleTicket"


class _Tmf(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="forbid")


class EntityRef(_Tmf):
    id: str
    href: str | None = None
    name: str | None = None
    referred_type: str | None = tmf("@referredType", default=None)
    type_: str = tmf("@type", default="EntityRef")


class PartyRoleRef(_Tmf):
    """The customer (or a person of the engine) a ticket relates to."""

    id: str = Field(description="The customer's mobile number when filing; shown masked unless the reader may see it")
    name: str | None = None
    href: str | None = None
    referred_type: str | None = tmf("@referredType", default=None)
    type_: Literal["PartyRoleRef", "PartyRef"] = tmf("@type", default="PartyRoleRef")


class RelatedParty(_Tmf):
    """TMF RelatedPartyRefOrPartyRoleRef."""

    role: str
    party_or_party_role: PartyRoleRef | None = tmf("partyOrPartyRole", default=None)
    type_: Literal["RelatedPartyRefOrPartyRoleRef"] = tmf("@type", default="RelatedPartyRefOrPartyRoleRef")


class Note(_Tmf):
    id: str | None = None
    author: str | None = None
    date: datetime | None = None
    text: str | None = None
    type_: Literal["Note"] = tmf("@type", default="Note")


class StatusChange(_Tmf):
    status_change_date: datetime | None = tmf("statusChangeDate", default=None)
    status_change_reason: str | None = tmf("statusChangeReason", default=None)
    status: TmfStatus | None = None
    type_: Literal["StatusChange"] = tmf("@type", default="StatusChange")


class RelatedEntity(_Tmf):
    role: str
    entity: EntityRef
    type_: Literal["RelatedEntity"] = tmf("@type", default="RelatedEntity")


class ChannelRef(_Tmf):
    id: str
    name: str | None = None
    type_: Literal["ChannelRef"] = tmf("@type", default="ChannelRef")


class TroubleTicketRelationship(_Tmf):
    id: str
    href: str | None = None
    relationship_type: str | None = tmf("relationshipType", default=None)
    type_: Literal["TroubleTicketRelationship"] = tmf("@type", default="TroubleTicketRelationship")


class PendingQuestion(_Tmf):
    """Engine extension: what the case asks the customer (answer it with the `answer` task)."""

    question_id: str = tmf("questionId")
    question: str
    options: list[str]
    asked_at: datetime = tmf("askedAt")
    type_: Literal["ComplaintQuestion"] = tmf("@type", default="ComplaintQuestion")


class Adjustment(_Tmf):
    """Engine extension: a proposed or applied adjustment (approve or refuse it with the tasks)."""

    adjustment_id: str = tmf("adjustmentId")
    kind: str
    amount_fen: int = tmf("amountFen", description="integer fen (1/100 yuan)")
    status: str
    needs_approval: bool = tmf("needsApproval")
    decided_by: str | None = tmf("decidedBy", default=None)
    type_: Literal["ComplaintAdjustment"] = tmf("@type", default="ComplaintAdjustment")


class RegulatoryClock(_Tmf):
    """Engine extension: one of the regulator's clocks beside the internal SLA (domain.regulatory_clocks).

    `miit_answer` is the MIIT answer deadline (15 days from filing as the rules count them; nothing pauses
    it; a breach escalates to regional support). `partner_window:<request>` is the partner carrier's window
    on one request (30 minutes, round the clock; a breach goes to the partner desk).
    """

    clock: str = Field(description="miit_answer, or partner_window:<request key>")
    started_at: datetime = tmf("startedAt")
    due_at: datetime = tmf("dueAt")
    standing: Literal["running", "warned", "breached", "answered"] = Field(
        description="answered once the carrier answered (the case resolved, the partner replied)")
    escalate_to: str = tmf("escalateTo", description="who a breach goes to: regional_support or partner_desk")
    answered_at: datetime | None = tmf("answeredAt", default=None)
    warned_at: datetime | None = tmf("warnedAt", default=None)
    breached_at: datetime | None = tmf("breachedAt", default=None)
    partner: str | None = None
    request_key: str | None = tmf("requestKey", default=None)
    type_: Literal["ComplaintRegulatoryClock"] = tmf("@type", default="ComplaintRegulatoryClock")


class Rejection(_Tmf):
    """Engine extension: why the complaint was not accepted at intake (the ticket's status is `rejected`)."""

    rule: str = Field(description="the regulator's rule, by name, e.g. MIIT: billing disputes older than 5 months "
                                  "are not accepted")
    reason: str
    oldest_accepted: date = tmf("oldestAccepted", description="the oldest disputed day the rule accepts")
    type_: Literal["ComplaintRejection"] = tmf("@type", default="ComplaintRejection")


class TroubleTicket(_Tmf):
    """A case as a TMF621 TroubleTicket (`@type` ComplaintTroubleTicket extends TroubleTicket)."""

    id: str
    href: str
    name: str | None = None
    description: str | None = None
    severity: str | None = None
    ticket_type: str | None = tmf("ticketType", default=None)
    priority: str | None = None
    channel: ChannelRef | None = None
    creation_date: datetime | None = tmf("creationDate", default=None)
    last_update: datetime | None = tmf("lastUpdate", default=None)
    expected_resolution_date: datetime | None = tmf("expectedResolutionDate", default=None)
    resolution_date: datetime | None = tmf("resolutionDate", default=None)
    status: TmfStatus | None = None
    status_change_date: datetime | None = tmf("statusChangeDate", default=None)
    status_change_reason: str | None = tmf("statusChangeReason", default=None)
    status_change_history: list[StatusChange] | None = tmf("statusChangeHistory", default=None)
    note: list[Note] | None = None
    related_entity: list[RelatedEntity] | None = tmf("relatedEntity", default=None)
    related_party: list[RelatedParty] | None = tmf("relatedParty", default=None)
    trouble_ticket_relationship: list[TroubleTicketRelationship] | None = tmf("troubleTicketRelationship", default=None)
    # --- extensions of ComplaintTroubleTicket -------------------------------------------------
    engine_status: str | None = tmf("engineStatus", default=None,
                                      description="the engine's own status (domain.tmf_status maps it)")
    assignee: str | None = None
    escalation_level: int | None = tmf("escalationLevel", default=None)
    pending_question: PendingQuestion | None = tmf("pendingQuestion", default=None)
    adjustment: list[Adjustment] | None = None
    regulatory_clock: list[RegulatoryClock] | None = tmf("regulatoryClock", default=None)
    disputed_since: date | None = tmf("disputedSince", default=None)
    rejection: Rejection | None = None
    type_: str = tmf("@type", default=OUR_TICKET_TYPE)
    base_type: str | None = tmf("@baseType", default="TroubleTicket")


class TroubleTicketCreate(_Tmf):
    """TMF TroubleTicket_FVO as this engine takes it: `ticketType` is the category, the customer a relatedParty.

    The customer is the relatedParty with role `customer`: its `partyOrPartyRole.id` is the mobile number and
    `name` the customer's name. A forwarding_cancel case also needs the ComplaintTroubleTicket extensions
    `customerIdNumber` and `partnerNumber` (the other carrier's number that holds the forwarding). The extension
    `disputedSince` (YYYY-MM-DD) is the day the disputed charge or matter began: a complaint the MIIT rules do not
    accept (billing disputes older than 5 months, others older than 2 years) is filed and `rejected` at once.
    """

    description: str = Field(min_length=1, max_length=4000)
    severity: str = Field(description="Minor, Major or Critical (the engine's normal, high, urgent)")
    ticket_type: str = tmf("ticketType", description="the complaint category, e.g. billing_spike")
    name: str | None = None
    channel: ChannelRef | None = Field(default=None, description="store, hotline or web (default store)")
    related_party: list[RelatedParty] = tmf("relatedParty", min_length=1)
    customer_id_number: str | None = tmf("customerIdNumber", default=None)
    partner_number: str | None = tmf("partnerNumber", default=None)
    # Text, validated as the CLI's --disputed-since is (domain.intake), so a bad day is said the same way.
    disputed_since: str | None = tmf("disputedSince", default=None, json_schema_extra={"format": "date"},
                                     description="the day the disputed charge or matter began (YYYY-MM-DD)")
    type_: str = tmf("@type", default=OUR_TICKET_TYPE)


class TroubleTicketPatch(_Tmf):
    """TMF TroubleTicket_MVO as this engine takes it (merge-patch): notes to add, and a status a person may set.

    `note` entries without an `id` are added as notes; `status` may be `cancelled` (the case is withdrawn)
    with `statusChangeReason` saying why. Anything else a ticket has is the engine's to change.
    """

    note: list[Note] | None = None
    status: TmfStatus | None = None
    status_change_reason: str | None = tmf("statusChangeReason", default=None, max_length=1000)
    type_: str | None = tmf("@type", default=None)
