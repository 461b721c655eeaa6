"""Activities of a remediation campaign: read a page of a batch's numbers, open one case.

Thin and idempotent. Opening a case starts its ComplaintWorkflow exactly as filing does (the same
input, search attributes and duplicate refusal), under the case id the campaign derived from the batch
and the number's position: a retry, or a rerun of the whole campaign, finds the case already filed
and opens nothing new.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from activities.trust import ProvenActor
from adapters.batches import PostgresBatches
from auth import trust
from auth.tokens import TokenRefused
from client.tokens import msisdn_token
from domain.actors import Actor, ActorChannel, Role
from domain.intake import ComplaintIntake
from domain.remediation import CAMPAIGN_FILER, RemediationLink, campaign_id, remediation_ordinal
from ports.batches import Batch, BatchMember
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


class CampaignCaseCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    msisdn: str
    remediation: RemediationLink


class StarterCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: str
    channel: ActorChannel = ActorChannel.CLI


# Who may start, pause or resume a campaign: it opens cases for thousands of customers.
SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT})


class RemediationActivities:
    """Take the database pool, a Temporal client to start cases with, and the number tokens' key.

    The key is the one search attributes' number tokens are made with (the clients' MSISDN_TOKEN_KEY).
    """

    def __init__(self, pool: asyncpg.Pool, client: Client, token_key: str) -> None:
        self._batches = PostgresBatches(pool)
        self._client = client
        self._token_key = token_key

    def all(self) -> list[Any]:
        """The activities to register on a worker."""
        return [self.verify_starter, self.batch_page, self.open_remediation_case, self.prove_campaign_case]

    @activity.defn
    async def verify_starter(self, request: StarterCheck) -> Actor:
        """The supervisor who starts the campaign, proved by their token against the keys this worker trusts.

        An activity, not workflow code: its answer is recorded, so a replay after the keys rotated still
        sees the same starter. A refusal fails the campaign before it opens anything.
        """
        try:
            actor = trust.verify(request.token, datetime.now(UTC)).actor(request.channel)
        except TokenRefused as refusal:
            raise ApplicationError(f"refused, the starter is not proven: {refusal}", type="NotAuthenticated",
                                   non_retryable=True) from None
        if actor.role not in SUPERVISING_ROLES:
            raise ApplicationError(f"a {actor.role.value} cannot start a remediation campaign: a supervisor can",
                                   type="NotAllowed", non_retryable=True)
        return actor

    @activity.defn
    async def prove_campaign_case(self, request: CampaignCaseCheck) -> ProvenActor:
        """Whether a case that says a campaign opened it is one.

        A campaign's case has no token to verify, so its opening is proven by the billing system's own rows instead (the
        caller's link is a claim).

        Proven when the case id is the one the campaign derives for a position of the named batch, and the
        batch holds the case's number at that position. A refusal is an answer (the run files nothing).
        """
        link = request.remediation
        ordinal = remediation_ordinal(link.batch_id, request.complaint_id)
        if ordinal is None or link.campaign_id != campaign_id(link.batch_id):
            return ProvenActor(refusal=f"case {request.complaint_id} is not a campaign's case of {link.batch_id}")
        members = await self._batches.members(link.batch_id, ordinal - 1, 1)
        if not members or members[0].ordinal != ordinal or members[0].line.msisdn != request.msisdn:
            return ProvenActor(refusal=f"batch {link.batch_id} has no such number at position {ordinal}")
        return ProvenActor(actor=CAMPAIGN_FILER)

    @activity.defn
    async def batch_page(self, request: BatchPageRequest) -> BatchPage:
        """One page of the batch's numbers after `after_ordinal`, or an empty page when the batch is unknown."""
        batch = await self._batches.batch(request.batch_id)
        if batch is None:
            return BatchPage(batch=None, members=[])
        members = await self._batches.members(request.batch_id, request.after_ordinal, request.limit)
        return BatchPage(batch=batch, members=members)

    @activity.defn
    async def open_remediation_case(self, request: OpenCaseRequest) -> OpenedCase:
        """Start the remediation case of one number (a second start of the same id finds the first)."""
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
