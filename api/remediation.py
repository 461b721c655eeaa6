"""Remediation campaigns over HTTP (issue 18): the API's twin of `starter remediate`.

One bad batch adjustment becomes one linked, audited case per harmed number. These are task endpoints of
our own under `/remediation/v1` (TMF621 has no such resource), in the same OpenAPI as the tickets:

- `POST /remediation/v1/campaign` with `dryRun: true`: the plan (numbers, remedies, money, validity), nothing
  opened; without it: start the batch's campaign (202), or find it running. A rerun opens nothing new.
- `GET /remediation/v1/campaign/{batchId}`: its progress, and its cases by status from the read model.
- `POST /remediation/v1/campaign/{batchId}/pause` and `/resume`.

All go through client.remediation with the caller's token: the campaign's first step and its pause and
resume validators check the token's signature and role again, as they do for the CLI.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError, RPCStatusCode

from activities.remediation import SUPERVISING_ROLES
from adapters.batches import PostgresBatches
from api.aliases import tmf
from api.context import ApiContext, context_of
from api.errors import ERROR_RESPONSES, ApiError
from api.security import Caller, require
from cli.connect import QUERY_TIMEOUT
from client.api import CaseNotFound, CommandRefused
from client.remediation import RemediationClient, UnknownBatch, batch_plan, case_counts
from domain.clock import local_day
from domain.errors import DomainError
from domain.remediation import campaign_id, check_batch_id
from workflows.remediation_campaign import CampaignProgress

PREFIX = "/remediation/v1"
BATCH_PATTERN = r"^[A-Z0-9][A-Z0-9-]{2,31}$"

router = APIRouter(prefix=PREFIX, tags=["remediation"], responses=ERROR_RESPONSES)

BatchId = Annotated[str, Path(alias="batchId", description="The batch adjustment's id, e.g. B-DRINKS-CLAWBACK",
                              pattern=BATCH_PATTERN)]
Supervisor = Annotated[Caller, Security(require(*sorted(SUPERVISING_ROLES)))]
Context = Annotated[ApiContext, Depends(context_of)]


class _Body(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, extra="forbid")


class CampaignRequest(_Body):
    """Plan (dry run) or start the campaign of one batch."""

    batch_id: str = tmf("batchId", pattern=BATCH_PATTERN, description="the batch adjustment's id")
    dry_run: bool = tmf("dryRun", default=False, description="only the plan: nothing is opened")
    cases_per_minute: int = tmf("casesPerMinute", default=600, ge=1, le=60_000,
                                description="the bounded rate the campaign opens cases at")
    page_size: int = tmf("pageSize", default=50, ge=1, le=500, description="numbers assessed per page")


class ControlRequest(_Body):
    reason: str = Field(default="", max_length=2000)


class CampaignPlanView(_Body):
    """The dry run: what the campaign would do today (domain.remediation.assess on every number)."""

    batch_id: str = tmf("batchId")
    numbers: int = Field(description="every number the batch touched")
    harmed: int = Field(description="harmed numbers: each gets a case")
    by_harm: dict[str, int] = tmf("byHarm")
    by_remedy: dict[str, int] = tmf("byRemedy")
    validity_days: int = tmf("validityDays", description="days of validity given back, in all")
    clawed_back_fen: int = tmf("clawedBackFen", description="integer fen the batch took from the harmed numbers")
    refund_fen: int = tmf("refundFen", description="integer fen the remedies move")
    summary: str = Field(description="the plan in words, as `starter remediate --dry-run` prints it")
    type_: Literal["RemediationPlan"] = tmf("@type", default="RemediationPlan")


class CampaignStatus(_Body):
    """A campaign's progress (its workflow's status query) and its cases by engine status."""

    id: str = Field(description="the campaign's workflow id")
    href: str
    batch_id: str = tmf("batchId")
    state: Literal["running", "paused", "done"]
    started_by: str | None = tmf("startedBy", default=None)
    numbers: int | None = Field(default=None, description="numbers the batch touched (known after a page)")
    assessed: int
    harmed: int
    opened: int = Field(description="cases this campaign opened")
    already_open: int = tmf("alreadyOpen", description="cases found filed already (a rerun, a retry)")
    unaffected: dict[str, int]
    runs: int = Field(description="runs so far (the campaign continues as new)")
    paused_by: str | None = tmf("pausedBy", default=None)
    pause_reason: str | None = tmf("pauseReason", default=None)
    cases_by_status: dict[str, int] = tmf("casesByStatus")
    type_: Literal["RemediationCampaign"] = tmf("@type", default="RemediationCampaign")


def _campaigns(context: ApiContext) -> RemediationClient:
    return RemediationClient(context.complaints.temporal, task_queue=context.complaints.options.task_queue,
                             query_timeout=QUERY_TIMEOUT)


def _href(request: Request, batch_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{PREFIX}/campaign/{batch_id}"


async def _status(context: ApiContext, request: Request, progress: CampaignProgress) -> CampaignStatus:
    state: Literal["running", "paused", "done"] = (
        "done" if progress.done else "paused" if progress.paused else "running")
    return CampaignStatus(
        id=campaign_id(progress.batch_id), href=_href(request, progress.batch_id), batch_id=progress.batch_id,
        state=state, started_by=progress.started_by, numbers=progress.numbers, assessed=progress.assessed,
        harmed=progress.harmed, opened=progress.opened, already_open=progress.already_open,
        unaffected=progress.unaffected, runs=progress.runs, paused_by=progress.paused_by,
        pause_reason=progress.pause_reason, cases_by_status=await case_counts(context.pool, progress.batch_id),
    )


def _body(model: BaseModel, status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status_code, headers=headers)


@router.post(
    "/campaign",
    summary="Plan (dryRun) or start a batch's remediation campaign",
    description=(
        "With `dryRun: true`, the plan: how many numbers the batch touched, the harm and remedy of each, the "
        "validity and money involved; nothing is opened (200). Otherwise the campaign starts, one linked case "
        "per harmed number at `casesPerMinute` at most (202, `Location` its status); while it runs, the same "
        "call finds it, and a rerun of a finished one opens nothing new. A supervisor's token (supervisor, "
        "store manager, regional support): the campaign checks it again and records it as the starter."
    ),
    responses={200: {"model": CampaignPlanView, "description": "the dry run's plan"},
               202: {"model": CampaignStatus, "description": "the campaign runs"}},
)
async def start_campaign(request: Request, body: CampaignRequest, caller: Supervisor,
                         context: Context) -> JSONResponse:
    """Start the remediation campaign of a batch, or with `dry_run` say what it would do without starting it."""
    batch_id = _batch(body.batch_id)
    if body.dry_run:
        try:
            plan = await batch_plan(context.pool, batch_id, local_day(context.clock()))
        except UnknownBatch as error:
            raise ApiError(404, str(error)) from None
        return _body(CampaignPlanView(summary=plan.render(), **plan.model_dump()))
    # Said here, before anything starts: the campaign would stop at its first step on an unknown batch.
    if await PostgresBatches(context.pool).batch(batch_id) is None:
        raise ApiError(404, f"no batch {batch_id} in the billing system")
    campaigns = _campaigns(context)
    await campaigns.start(batch_id, caller.token, cases_per_minute=body.cases_per_minute, page_size=body.page_size)
    try:
        progress = await _progress(campaigns, batch_id)
    except NoAnswer:
        # Started, but no worker has taken it up yet to answer the query: it is running, nothing counted.
        progress = CampaignProgress(batch_id=batch_id)
    status = await _status(context, request, progress)
    return _body(status, 202, Location=status.href)


@router.get("/campaign/{batchId}", response_model=CampaignStatus, response_model_by_alias=True,
            summary="A campaign's progress and its cases by status")
async def campaign_status(request: Request, batch_id: BatchId, caller: Supervisor, context: Context) -> JSONResponse:
    """The campaign's progress for a batch."""
    return _body(await _status(context, request, await _progress(_campaigns(context), _batch(batch_id))))


@router.post("/campaign/{batchId}/pause", response_model=CampaignStatus, response_model_by_alias=True,
             summary="Pause a running campaign (it opens no case until resumed)")
async def pause_campaign(request: Request, batch_id: BatchId, body: ControlRequest, caller: Supervisor,
                         context: Context) -> JSONResponse:
    """Pause the batch's campaign: no more numbers are remedied until it is resumed."""
    return await _control(request, context, _batch(batch_id), caller, body, pause=True)


@router.post("/campaign/{batchId}/resume", response_model=CampaignStatus, response_model_by_alias=True,
             summary="Resume a paused campaign")
async def resume_campaign(request: Request, batch_id: BatchId, body: ControlRequest, caller: Supervisor,
                          context: Context) -> JSONResponse:
    """Resume the batch's paused campaign where it stopped."""
    return await _control(request, context, _batch(batch_id), caller, body, pause=False)


def _batch(batch_id: str) -> str:
    try:
        return check_batch_id(batch_id)
    except DomainError as error:
        raise ApiError(400, str(error)) from None


class NoAnswer(ApiError):
    """No worker answered the campaign's status query in time (none runs, or all are busy)."""


# A query no worker answers within its timeout ends CANCELLED on the client's side.
_NO_ANSWER = frozenset({RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE})


async def _progress(campaigns: RemediationClient, batch_id: str) -> CampaignProgress:
    try:
        return await campaigns.status(batch_id)
    except CaseNotFound:
        raise ApiError(404, f"no campaign for batch {batch_id}") from None
    except RPCError as error:
        if error.status not in _NO_ANSWER:
            raise
        raise NoAnswer(503, f"no worker answered the campaign of batch {batch_id} in time: is one running?",
                       headers={"Retry-After": "5"}) from None


async def _control(request: Request, context: Context, batch_id: str, caller: Caller, body: ControlRequest, *,
                   pause: bool) -> JSONResponse:
    campaigns = _campaigns(context)
    act = campaigns.pause if pause else campaigns.resume
    try:
        progress = await act(batch_id, caller.token, body.reason)
    except CommandRefused as refused:
        raise ApiError(409, str(refused)) from None
    except CaseNotFound:
        raise ApiError(404, f"no running campaign for batch {batch_id}") from None
    return _body(await _status(context, request, progress))
