"""Activities of a remediation campaign: read a page of a batch's numbers, open one case.

Thin and idempotent. Opening a case starts its ComplaintWorkflow exactly as filing does (the same
input, search attributes and duplicate refusal), under the case id the campaign derived from the batch
and the number's position: a retry, or a rerun of the whole campaign, finds the case already filed
and opens nothing new.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from adapters.batches import Batch, BatchMember, PostgresBatches
from client.tokens import msisdn_token
from domain.intake import ComplaintIntake
from domain.remediation import RemediationLink
from workflows import search_attributes as sa
from workflows.messages import ComplaintInput


class BatchPageRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_id: str
    after_ordinal: int
    limit: int


class BatchPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch: Batch | None  # None: no such batch
    members: list[BatchMember]


class OpenCaseRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    intake: ComplaintIntake
    remediation: RemediationLink
    task_queue: str


class OpenedCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    opened: bool  # False: the case was filed already (a retry, a rerun, or a person filed it)


class RemediationActivities:
    """Needs the database pool, a Temporal client to start cases with, and the key of the number tokens
    search attributes carry (the same as the clients', MSISDN_TOKEN_KEY)."""

    def __init__(self, pool: asyncpg.Pool, client: Client, token_key: str) -> None:
        self._batches = PostgresBatches(pool)
        self._client = client
        self._token_key = token_key

    def all(self) -> list[Any]:
        return [self.batch_page, self.open_remediation_case]

    @activity.defn
    async def batch_page(self, request: BatchPageRequest) -> BatchPage:
        batch = await self._batches.batch(request.batch_id)
        if batch is None:
            return BatchPage(batch=None, members=[])
        members = await self._batches.members(request.batch_id, request.after_ordinal, request.limit)
        return BatchPage(batch=batch, members=members)

    @activity.defn
    async def open_remediation_case(self, request: OpenCaseRequest) -> OpenedCase:
        intake = request.intake
        token = msisdn_token(self._token_key, intake.msisdn)
        try:
            await self._client.start_workflow(
                "ComplaintWorkflow",
                ComplaintInput(intake=intake, msisdn_token=token, remediation=request.remediation),
                id=intake.complaint_id,
                task_queue=request.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sa.at_filing(intake.category.value, intake.priority.value, token),
            )
        except WorkflowAlreadyStartedError:
            return OpenedCase(complaint_id=intake.complaint_id, opened=False)
        return OpenedCase(complaint_id=intake.complaint_id, opened=True)
