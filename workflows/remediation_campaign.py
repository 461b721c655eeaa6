"""RemediationCampaignWorkflow: one durable campaign per bad batch, one linked case per harmed number.

Page through the numbers the batch touched (in number order), decide per number with the pure rule
(domain.remediation.assess) what harm it did, and open a validity_shortened case for each harmed one:
its description says "remediation of batch B", its first evidence is the harm and the cited batch
row, and it runs the normal playbook with its approvals and its own hash chain.

Safe at scale:
- idempotent: the campaign's id is the batch's, each case's id derives from the batch and the number's
  position, so a retry or a rerun finds the cases filed and opens nothing new;
- bounded: after each page it waits so that no more than `cases_per_minute` cases start (a durable
  timer: a worker killed mid-way picks up where the history says);
- bounded history: it continues as new every `pages_per_run` pages, carrying its progress;
- a supervisor pauses and resumes it (updates proved by a signed token, checked in validators before
  anything is recorded); the `progress` query shows the counts while it runs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.liveness import WORKER_LIVENESS
    from activities.remediation import (
        SUPERVISING_ROLES,
        BatchPage,
        BatchPageRequest,
        OpenCaseRequest,
        OpenedCase,
        RemediationActivities,
        StarterCheck,
    )
    from auth import trust
    from domain.actors import Actor
    from domain.cases import Category
    from domain.clock import local_day
    from domain.errors import InvalidCommand
    from domain.intake import ComplaintIntake
    from domain.remediation import (
        CAMPAIGN_FILER,
        RemediationLink,
        assess,
        campaign_id,
        remediation_case_id,
        remediation_reason,
    )
    from ports.batches import BatchMember
    from workflows.messages import Act, Text

__all__ = ["CAMPAIGN_FILER", "RemediationCampaignWorkflow"]


class CampaignProgress(BaseModel):
    """The counts so far; carried from run to run when the campaign continues as new."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    started_by: str | None = None  # the supervisor the starting token proved
    numbers: int | None = None  # how many the batch touched (known after the first page)
    assessed: int = 0
    harmed: int = 0
    opened: int = 0  # cases this campaign started
    already_open: int = 0  # cases found filed already (a rerun, a retry)
    unaffected: dict[str, int] = Field(default_factory=dict)  # by harm: not_cut, already_past, ...
    cursor: int = 0  # the last position assessed
    runs: int = 1
    paused: bool = False
    paused_by: str | None = None
    pause_reason: str | None = None
    done: bool = False

    @property
    def cases(self) -> int:
        return self.opened + self.already_open


class CampaignInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_id: str
    # The starting supervisor's token, verified by the first activity; dropped when continuing as new.
    token: str = Field(default="", max_length=8192, repr=False)
    case_task_queue: str  # where the cases run (the engine's task queue)
    cases_per_minute: int = Field(default=600, ge=1, le=60_000)
    page_size: int = Field(default=50, ge=1, le=500)
    pages_per_run: int = Field(default=20, ge=1)
    progress: CampaignProgress | None = None  # set when continuing as new


class CampaignControl(Act):
    """Pause or resume: a supervisor's act, proved by their token."""

    reason: Text = Field(default="", max_length=500)


_PAGE_TIMEOUT = timedelta(seconds=30)
_OPEN_TIMEOUT = timedelta(seconds=30)
# Temporal or PostgreSQL may be away a while: the campaign waits, it does not give up.
_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@workflow.defn
class RemediationCampaignWorkflow:
    @workflow.init
    def __init__(self, start: CampaignInput) -> None:
        self.progress = start.progress or CampaignProgress(batch_id=start.batch_id)

    @workflow.run
    async def run(self, start: CampaignInput) -> CampaignProgress:
        """Remedy the batch page by page, waiting while paused, continuing as new; return the progress."""
        pages = 0
        if self.progress.started_by is None:
            starter: Actor = await workflow.execute_activity_method(
                RemediationActivities.verify_starter,
                StarterCheck(token=start.token),
                start_to_close_timeout=_PAGE_TIMEOUT,
                heartbeat_timeout=WORKER_LIVENESS,
                retry_policy=_RETRY,
            )
            self._update(started_by=starter.id)
            workflow.logger.info("campaign of batch %s started by %s", start.batch_id, starter.id)
        while not self.progress.done:
            await workflow.wait_condition(lambda: not self.progress.paused)
            page: BatchPage = await workflow.execute_activity_method(
                RemediationActivities.batch_page,
                BatchPageRequest(batch_id=start.batch_id, after_ordinal=self.progress.cursor, limit=start.page_size),
                start_to_close_timeout=_PAGE_TIMEOUT,
                heartbeat_timeout=WORKER_LIVENESS,
                retry_policy=_RETRY,
            )
            if page.batch is None:
                raise ApplicationError(f"no batch {start.batch_id} in the billing system", type="UnknownBatch",
                                       non_retryable=True)
            started = await self._work(start, page.members)
            pages += 1
            self._update(numbers=page.batch.numbers, done=len(page.members) < start.page_size)
            if started:  # the bounded rate: this page's starts spread over the time they are allowed
                await workflow.sleep(timedelta(seconds=60 * started / start.cases_per_minute))
            if not self.progress.done and (
                pages >= start.pages_per_run or workflow.info().is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                carried = self.progress.model_copy(update={"runs": self.progress.runs + 1})
                workflow.continue_as_new(start.model_copy(update={"progress": carried, "token": ""}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.progress

    async def _work(self, start: CampaignInput, members: list[BatchMember]) -> int:
        """Assess one page's numbers and open a case for each harmed one; how many cases it opened."""
        today = local_day(workflow.now())
        unaffected = dict(self.progress.unaffected)
        requests: list[OpenCaseRequest] = []
        for member in members:
            assessment = assess(member.line, today)
            if not assessment.harmed:
                unaffected[assessment.harm.value] = unaffected.get(assessment.harm.value, 0) + 1
                continue
            intake = ComplaintIntake(
                complaint_id=remediation_case_id(start.batch_id, member.ordinal),
                category=Category.VALIDITY_SHORTENED,
                msisdn=member.line.msisdn,
                customer_name=member.customer_name,
                description=remediation_reason(start.batch_id),
                filed_by=CAMPAIGN_FILER,
            )
            link = RemediationLink(batch_id=start.batch_id, campaign_id=campaign_id(start.batch_id),
                                   assessment=assessment, citations=[member.citation])
            requests.append(OpenCaseRequest(intake=intake, remediation=link, task_queue=start.case_task_queue))
        results: list[OpenedCase] = list(
            await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        RemediationActivities.open_remediation_case,
                        request,
                        start_to_close_timeout=_OPEN_TIMEOUT,
                        heartbeat_timeout=WORKER_LIVENESS,
                        retry_policy=_RETRY,
                    )
                    for request in requests
                )
            )
        )
        opened = sum(1 for r in results if r.opened)
        self._update(
            assessed=self.progress.assessed + len(members),
            harmed=self.progress.harmed + len(requests),
            opened=self.progress.opened + opened,
            already_open=self.progress.already_open + len(results) - opened,
            unaffected=unaffected,
            cursor=members[-1].ordinal if members else self.progress.cursor,
        )
        return opened

    def _update(self, **changes: object) -> None:
        self.progress = self.progress.model_copy(update=changes)

    # --- a supervisor's pause and resume -----------------------------------------------------

    def _supervisor(self, request: CampaignControl) -> Actor:
        """In validators only: the supervisor the token proves, or a refusal saying why not."""
        actor = trust.proven_actor(request.token, request.channel, workflow.now())
        if actor.role not in SUPERVISING_ROLES:
            raise InvalidCommand(f"a {actor.role.value} cannot pause or resume a campaign: a supervisor can")
        if self.progress.done:
            raise InvalidCommand(f"the campaign of batch {self.progress.batch_id} is done")
        return actor

    @workflow.update
    async def pause(self, request: CampaignControl) -> CampaignProgress:
        """Pause the campaign as the verified caller (update)."""
        actor = trust.claims_of_verified(request.token).actor(request.channel)
        self._update(paused=True, paused_by=actor.id, pause_reason=request.reason or None)
        return self.progress

    @pause.validator
    def _validate_pause(self, request: CampaignControl) -> None:
        self._supervisor(request)
        if self.progress.paused:
            raise InvalidCommand(f"the campaign is already paused (by {self.progress.paused_by})")

    @workflow.update
    async def resume(self, request: CampaignControl) -> CampaignProgress:
        """Resume the paused campaign (update)."""
        self._update(paused=False, paused_by=None, pause_reason=None)
        return self.progress

    @resume.validator
    def _validate_resume(self, request: CampaignControl) -> None:
        self._supervisor(request)
        if not self.progress.paused:
            raise InvalidCommand("the campaign is not paused")

    @workflow.query
    def status(self) -> CampaignProgress:
        """The campaign's progress (query)."""
        return self.progress
