"""RemediationClient: plan, start, watch, pause and resume a batch's remediation campaign.

For scripts, starter.py and tests alike. The dry run reads the batch from the billing system and
applies the same pure rule the campaign applies (domain.remediation.assess), so its plan is what the
campaign would do today; a real run starts the campaign workflow, once per batch.
"""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from adapters.batches import PostgresBatches
from client.api import CaseNotFound, CommandRefused
from domain.actors import ActorChannel
from domain.remediation import CampaignPlan, assess, campaign_id, check_batch_id, plan
from workflows.remediation_campaign import (
    CampaignControl,
    CampaignInput,
    CampaignProgress,
    RemediationCampaignWorkflow,
)

_PAGE = 500


class UnknownBatch(LookupError):
    """No batch adjustment with that id in the billing system."""


async def batch_plan(pool: asyncpg.Pool, batch_id: str, today: date) -> CampaignPlan:
    """What a campaign would do for the batch today: every number assessed, nothing changed."""
    batches = PostgresBatches(pool)
    if await batches.batch(check_batch_id(batch_id)) is None:
        raise UnknownBatch(f"no batch {batch_id} in the billing system")
    assessments, cursor = [], 0
    while True:
        members = await batches.members(batch_id, cursor, _PAGE)
        assessments += [assess(member.line, today) for member in members]
        if len(members) < _PAGE:
            return plan(batch_id, assessments)
        cursor = members[-1].ordinal


async def case_counts(pool: asyncpg.Pool, batch_id: str) -> dict[str, int]:
    """The campaign's cases by status, from the event store's read model (every case writes it)."""
    rows = await pool.fetch(
        "SELECT status, count(*) AS n FROM complaints WHERE complaint_id LIKE $1 GROUP BY status ORDER BY status",
        f"REM-{check_batch_id(batch_id)}-%",
    )
    return {row["status"]: row["n"] for row in rows}


def progress_bar(progress: CampaignProgress, width: int = 30) -> str:
    """`[#########---------] 540/2000 numbers, 432 cases (12 found open), paused by sup-wang`."""
    total = progress.numbers or 0
    filled = width * progress.assessed // total if total else 0
    state = "done" if progress.done else (f"paused by {progress.paused_by}" if progress.paused else "running")
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {progress.assessed}/{total or '?'} numbers, "
        f"{progress.cases} cases ({progress.already_open} found open), {state}"
    )


class RemediationClient:
    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        channel: ActorChannel = ActorChannel.API,
        query_timeout: timedelta | None = None,
    ) -> None:
        """`query_timeout` bounds the status query (default: the SDK's, which waits for a worker)."""
        self.temporal = client
        self._task_queue = task_queue
        self._channel = channel
        self._query_timeout = query_timeout

    async def start(
        self,
        batch_id: str,
        token: str,
        *,
        cases_per_minute: int = 600,
        page_size: int = 50,
        pages_per_run: int = 20,
    ) -> WorkflowHandle[RemediationCampaignWorkflow, CampaignProgress]:
        """Start the batch's campaign, or attach to it while it runs.

        A finished campaign runs again and finds its cases filed: it opens nothing new.
        """
        start = CampaignInput(
            batch_id=check_batch_id(batch_id),
            token=token,
            case_task_queue=self._task_queue,
            cases_per_minute=cases_per_minute,
            page_size=page_size,
            pages_per_run=pages_per_run,
        )
        return await self.temporal.start_workflow(
            RemediationCampaignWorkflow.run,
            start,
            id=campaign_id(batch_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )

    async def batches(self, limit: int = 200) -> list[str]:
        """The batches that have a campaign (running or ended), most recently started first, from visibility."""
        found: list[str] = []
        query = f"WorkflowType = '{RemediationCampaignWorkflow.__name__}'"
        async for execution in self.temporal.list_workflows(query, limit=limit):
            batch = execution.id.removeprefix(campaign_id(""))
            if batch not in found:  # a rerun is a new run of the same workflow id
                found.append(batch)
        return found

    def _handle(self, batch_id: str) -> WorkflowHandle[RemediationCampaignWorkflow, CampaignProgress]:
        return self.temporal.get_workflow_handle_for(RemediationCampaignWorkflow.run, campaign_id(batch_id))

    async def status(self, batch_id: str) -> CampaignProgress:
        """The campaign's progress for a batch."""
        try:
            progress: CampaignProgress = await self._handle(check_batch_id(batch_id)).query(
                RemediationCampaignWorkflow.status, rpc_timeout=self._query_timeout
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(f"no campaign for batch {batch_id}") from None
            raise
        return progress

    async def pause(self, batch_id: str, token: str, reason: str = "") -> CampaignProgress:
        """Pause the batch's campaign, as the token's holder."""
        return await self._control(batch_id, "pause", token, reason)

    async def resume(self, batch_id: str, token: str, reason: str = "") -> CampaignProgress:
        """Resume the batch's paused campaign, as the token's holder."""
        return await self._control(batch_id, "resume", token, reason)

    async def _control(self, batch_id: str, update: str, token: str, reason: str) -> CampaignProgress:
        request = CampaignControl(token=token, channel=self._channel, reason=reason)
        try:
            result: CampaignProgress = await self._handle(check_batch_id(batch_id)).execute_update(
                update, request, result_type=CampaignProgress
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            raise CommandRefused(getattr(cause, "message", None) or str(cause)) from None
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(f"no running campaign for batch {batch_id}") from None
            raise
        return result
