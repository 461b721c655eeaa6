"""POST troubleTicket: a TMF TroubleTicket_FVO filed as a complaint through ComplaintClient, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime

from api.context import ApiContext
from api.errors import ApiError
from api.idempotency import KeyReused, claim_key, new_ticket_id, request_digest
from api.mapping import Reader, priority_of_severity, ticket_from_events
from api.models import TroubleTicket, TroubleTicketCreate
from api.security import Caller
from client.api import CaseAlreadyFiled, CaseNotFound
from domain.actors import ActorChannel, Role
from domain.cases import IntakeChannel
from domain.clock import local_day
from domain.errors import InvalidIntake
from domain.intake import ComplaintIntake, parse_intake
from domain.msisdn import parse_msisdn

# How long filing waits for the case to record its first steps (its links to open cases) before answering.
WAIT_FOR_FIRST_STEPS_SECONDS = 5.0


def intake_of(body: TroubleTicketCreate, complaint_id: str, caller: Caller) -> ComplaintIntake:
    """The engine's intake for a TMF ticket; 400 with one line per problem."""
    customers = [party for party in body.related_party if party.role == "customer"]
    if len(customers) != 1 or customers[0].party_or_party_role is None:
        raise ApiError(400, "relatedParty must hold one party with role `customer` whose partyOrPartyRole.id is "
                            "the mobile number and name the customer's name")
    customer = customers[0].party_or_party_role
    if caller.actor.role is Role.CUSTOMER and not _same_number(caller.actor.msisdn, customer.id):
        raise ApiError(403, f"{caller.actor.subject} may file only for their own number")
    try:
        priority = priority_of_severity(body.severity)
    except ValueError as error:
        raise ApiError(400, f"severity: {error}") from None
    channel = (body.channel.name or body.channel.id) if body.channel else IntakeChannel.WEB.value
    try:
        return parse_intake({
            "complaint_id": complaint_id,
            "category": body.ticket_type,
            "msisdn": customer.id,
            "customer_name": customer.name or "",
            "description": body.description,
            "priority": priority.value,
            "channel": channel,
            "id_number": body.customer_id_number,
            "partner_msisdn": body.partner_number,
            "disputed_since": body.disputed_since,
            "filed_by": caller.actor.actor(ActorChannel.API),
        }, today=local_day(datetime.now(UTC)))
    except InvalidIntake as error:
        raise ApiError(400, str(error)) from None


def _same_number(claimed: str | None, given: str) -> bool:
    try:
        return claimed is not None and parse_msisdn(claimed) == parse_msisdn(given)
    except ValueError:
        return False


async def file_ticket(
    context: ApiContext, caller: Caller, body: TroubleTicketCreate, idempotency_key: str | None, base: str
) -> TroubleTicket:
    """File the complaint (once per Idempotency-Key and body) and answer its ticket."""
    # Checked before the key is claimed: a body the engine refuses does not use up its key.
    intake = intake_of(body, new_ticket_id(), caller)
    if idempotency_key is None:
        complaint_id, retry = intake.complaint_id, False
    else:
        digest = request_digest(body.model_dump(mode="json", by_alias=True, exclude_none=True))
        try:
            claim = await claim_key(context.pool, caller.actor.subject, idempotency_key, digest)
        except KeyReused as reused:
            raise ApiError(409, str(reused)) from None
        complaint_id, retry = claim.complaint_id, not claim.first
    intake = intake.model_copy(update={"complaint_id": complaint_id})
    complaints = context.complaints.acting_as(caller.token, ActorChannel.API)
    try:
        await complaints.file(intake, wait_for_links=WAIT_FOR_FIRST_STEPS_SECONDS)
    except CaseAlreadyFiled:
        if not retry:
            raise ApiError(409, f"ticket {complaint_id} exists already") from None
        # A retry of a filing that went through: answer the same ticket.
    try:
        view = await complaints.view(complaint_id)
    except CaseNotFound:
        raise ApiError(503, f"ticket {complaint_id} is filed; its case does not answer yet: GET it shortly") from None
    return ticket_from_events(view.timeline, Reader(caller.actor), base)
