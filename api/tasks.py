"""The engine's own acts on a ticket, as task endpoints under it.

Answer, approve or refuse an adjustment, reassign, resolve, reopen.

Each goes through ComplaintClient with the caller's token, which the update carries into the workflow: the
case's validator checks the signature and the role again and refuses what its rules refuse (409 here, and
nothing changed). TMF621 has no operations for these; they follow TMF's task-resource pattern (a POST of a
small request under the resource) and answer a `ComplaintTaskResult`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Security
from pydantic import BaseModel, ConfigDict, Field

from api.aliases import tmf
from api.context import ApiContext, context_of
from api.errors import ERROR_RESPONSES, ApiError
from api.mapping import ticket_href
from api.reading import base_url, case_events
from api.security import FILERS, STAFF, Caller, require
from client.api import CaseNotFound, CommandRefused, NotAuthenticated
from domain.errors import DomainError

router = APIRouter(tags=["troubleTicket tasks"], responses=ERROR_RESPONSES)

TicketId = Annotated[str, Path(description="The ticket (complaint) id", min_length=1, max_length=64)]
AdjustmentId = Annotated[str, Path(description="The adjustment id (see the ticket's `adjustment`)",
                                   min_length=1, max_length=64)]


class _Task(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="forbid")


class AnswerTask(_Task):
    question_id: str = tmf("questionId", min_length=1, max_length=64)
    answer: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
    on_behalf_of: Literal["customer"] | None = tmf(
        "onBehalfOf", default=None, description="staff relaying the customer's answer say `customer`")


class DecisionTask(_Task):
    reason: str = Field(default="", max_length=2000)


class ReassignTask(_Task):
    assignee: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="", max_length=2000)


class ResolveTask(_Task):
    outcome: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=4000)


class ReopenTask(_Task):
    reason: str = Field(min_length=1, max_length=2000)


class TaskResult(_Task):
    """What a task did: the case's answer, and the ticket it did it to."""

    ticket_id: str = tmf("ticketId")
    href: str
    task: str
    result: str
    type_: Literal["ComplaintTaskResult"] = tmf("@type", default="ComplaintTaskResult")


async def _run(
    context: ApiContext, caller: Caller, request: Request, complaint_id: str, task: str, act: Awaitable[Any]
) -> TaskResult:
    try:
        outcome = await act
    except CommandRefused as refused:
        raise ApiError(409, str(refused)) from None
    except CaseNotFound as missing:
        raise ApiError(409, f"{missing}: the case takes no {task} now") from None
    except NotAuthenticated as refused:
        raise ApiError(401, str(refused)) from None
    except DomainError as refused:
        raise ApiError(409, str(refused)) from None
    # Updates answer a word ("approved", a note's number); reopening answers the new run's handle.
    run_id = getattr(outcome, "result_run_id", None)
    result = f"reopened as run {run_id}" if run_id else str(outcome)
    return TaskResult(ticket_id=complaint_id, href=ticket_href(base_url(request), complaint_id), task=task,
                      result=result)


Context = Annotated[ApiContext, Depends(context_of)]


@router.post("/troubleTicket/{id}/answer", response_model=TaskResult, response_model_by_alias=True,
             summary="The customer's answer to the ticket's open question (staff relay it onBehalfOf customer)")
async def answer(request: Request, id: TicketId, body: AnswerTask,
                 caller: Annotated[Caller, Security(require(*FILERS))], context: Context) -> TaskResult:
    """Answer a question the case asked, as the verified caller."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).answer(
        id, body.question_id, body.answer, comment=body.comment, on_behalf_of=body.on_behalf_of)
    return await _run(context, caller, request, id, "answer", act)


@router.post("/troubleTicket/{id}/adjustment/{adjustmentId}/approve", response_model=TaskResult,
             response_model_by_alias=True, summary="Approve a proposed adjustment (the case's approval rules apply)")
async def approve(request: Request, id: TicketId, adjustment_id: Annotated[AdjustmentId, Path(alias="adjustmentId")],
                  body: DecisionTask, caller: Annotated[Caller, Security(require(*STAFF))],
                  context: Context) -> TaskResult:
    """Approve a proposed adjustment of the case, as the verified caller."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).decide(id, adjustment_id, approve=True, reason=body.reason)
    return await _run(context, caller, request, id, "approve", act)


@router.post("/troubleTicket/{id}/adjustment/{adjustmentId}/refuse", response_model=TaskResult,
             response_model_by_alias=True, summary="Refuse a proposed adjustment")
async def refuse(request: Request, id: TicketId, adjustment_id: Annotated[AdjustmentId, Path(alias="adjustmentId")],
                 body: DecisionTask, caller: Annotated[Caller, Security(require(*STAFF))],
                 context: Context) -> TaskResult:
    """Refuse a proposed adjustment of the case, with the caller's reason."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).decide(id, adjustment_id, approve=False, reason=body.reason)
    return await _run(context, caller, request, id, "refuse", act)


@router.post("/troubleTicket/{id}/reassign", response_model=TaskResult, response_model_by_alias=True,
             summary="Hand the ticket to another person")
async def reassign(request: Request, id: TicketId, body: ReassignTask,
                   caller: Annotated[Caller, Security(require(*STAFF))], context: Context) -> TaskResult:
    """Hand the case to another assignee, with the caller's reason."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).reassign(id, body.assignee, reason=body.reason)
    return await _run(context, caller, request, id, "reassign", act)


@router.post("/troubleTicket/{id}/resolve", response_model=TaskResult, response_model_by_alias=True,
             summary="Resolve the ticket by hand; the customer is then asked to confirm")
async def resolve(request: Request, id: TicketId, body: ResolveTask,
                  caller: Annotated[Caller, Security(require(*STAFF))], context: Context) -> TaskResult:
    """Resolve the case by hand with an outcome and summary."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).resolve(id, body.outcome, body.summary)
    return await _run(context, caller, request, id, "resolve", act)


@router.post("/troubleTicket/{id}/reopen", response_model=TaskResult, response_model_by_alias=True,
             status_code=202, summary="Reopen a ticket closed within its reopen window (a new run of the case)")
async def reopen(request: Request, id: TicketId, body: ReopenTask,
                 caller: Annotated[Caller, Security(require(*FILERS))], context: Context) -> TaskResult:
    """Reopen a closed case within the reopen window, with the caller's reason."""
    await case_events(context, caller, id)
    act = context.complaints.acting_as(caller.token).reopen(id, body.reason)
    return await _run(context, caller, request, id, "reopen", act)
