"""ComplaintClient: file complaints and act on them, for scripts, starter.py and tests alike."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from auth.tokens import TokenRefused, TrustedKeys, VerifiedActor, read_verified_claims, verify_token
from client.basics import (
    OPENING_ATTEMPTS,
    STOPPED_RUNS,
    CaseAlreadyFiled,
    CaseNotFound,
    CaseSummary,
    ClientOptions,
    CommandRefused,
    Credential,
    FilingReceipt,
    NotAuthenticated,
    NotVisible,
    _command,
    check_visible,
    connect_temporal,
    execute_update,
    identity_for,
    token_of,
)
from client.queries import CaseFilter, visibility_query
from client.runs import describe_run
from client.tokens import msisdn_token
from domain.actors import ActorChannel, Role
from domain.clock import local_day
from domain.events import ComplaintFiled, LinkedToCase
from domain.intake import ComplaintIntake, intake_of_filed, refuse_future_dispute
from domain.msisdn import parse_msisdn
from domain.reopening import check_reopen
from domain.ui_metadata import case_static_details, case_summary
from workflows import search_attributes as sa
from workflows.complaint import NOT_OPENED, STILL_OPENING, ComplaintWorkflow
from workflows.messages import (
    ApprovalDecision,
    CaseOutcome,
    CaseView,
    ComplaintInput,
    CustomerAnswer,
    ManualResolution,
    Note,
    Reassignment,
    SlaRepair,
    Withdrawal,
)
from workflows.sla_repair import REPAIR_SLA


class ComplaintClient:
    def __init__(
        self,
        client: Client,
        *,
        options: ClientOptions,
        token_key: str,
        query_timeout: timedelta | None = None,
        update_timeout: timedelta | None = None,
        credential: Credential | None = None,
        channel: ActorChannel = ActorChannel.API,
        trusted_keys: TrustedKeys | None = None,
    ) -> None:
        """The timeouts bound each query and update call (default: the SDK's, which waits).

        A person at a terminal wants an absent worker said in seconds, a script may prefer to wait.

        `credential` proves who acts: every update carries its token, and the workflow refuses the update
        unless a key the worker trusts signed it (see auth.trust). Each acting method also takes a
        credential of its own, for a script acting for several people. `channel` is recorded with each act.
        `trusted_keys`, when given, lets this client check a credential itself before it reads for its
        holder (`view`, `list_cases`: a customer sees only their own cases); without them the claims are
        read as given, and only the workflow's check of acts is a security boundary.
        """
        self.temporal = client
        self.options = options
        self._token_key = token_key
        self._query_timeout = query_timeout
        self._update_timeout = update_timeout
        self._credential = credential
        self._channel = channel
        self._trusted_keys = trusted_keys

    def acting_as(self, credential: Credential, channel: ActorChannel | None = None) -> ComplaintClient:
        """The same client acting with another credential (a script driving several people's acts).

        The Temporal connection, and so its identity, is shared: connect per person (`connect_temporal(...,
        credential=...)`) where Temporal's request records must name each one.
        """
        return ComplaintClient(
            self.temporal, options=self.options, token_key=self._token_key, query_timeout=self._query_timeout,
            update_timeout=self._update_timeout, credential=credential, channel=channel or self._channel,
            trusted_keys=self._trusted_keys,
        )

    def _token(self, credential: Credential | None) -> str:
        chosen = credential if credential is not None else self._credential
        if chosen is None:
            raise NotAuthenticated("no credential: log in first (starter login --as ID) or pass a token")
        return token_of(chosen)

    def whoami(self, credential: Credential | None = None) -> VerifiedActor:
        """The claims of the credential, verified when this client holds trusted keys."""
        token = self._token(credential)
        try:
            if self._trusted_keys is not None:
                return verify_token(token, self._trusted_keys, datetime.now(UTC))
            return read_verified_claims(token)
        except TokenRefused as refusal:
            raise NotAuthenticated(str(refusal)) from None
        except ValueError as error:  # not a JWT at all
            raise NotAuthenticated(f"the credential is not a token: {error}") from None

    def _reader(self) -> VerifiedActor | None:
        """Who reads: None when this client reads without a credential (a trusted back-office script)."""
        return self.whoami() if self._credential is not None else None

    def msisdn_token(self, msisdn: str) -> str:
        """The search token of a phone number (validated first), to find its cases with `CaseFilter`."""
        return msisdn_token(self._token_key, parse_msisdn(msisdn))

    # --- filing ----------------------------------------------------------------------------

    async def file(
        self, intake: ComplaintIntake, credential: Credential | None = None, *, wait_for_links: float = 10.0
    ) -> FilingReceipt:
        """Start the case's workflow; its id is the complaint id, so a second filing is refused.

        The filer is whoever the credential (this one, or the client's) names, whatever the intake says: the
        worker verifies its token when the case opens and records that actor, or files nothing.
        Then wait up to `wait_for_links` seconds (0: not at all) for the case to look up the open cases
        of the same number and category, and return them in the receipt. Filing is never blocked by them. A case
        the regulator's rules do not accept is filed and rejected at once: the receipt's `rejection` names the rule.

        Raises:
            InvalidIntake: the disputed matter begins after today (nothing is filed).
        """
        token = self._token(credential)
        intake = intake.model_copy(update={"filed_by": self.whoami(token).actor(self._channel)})
        refuse_future_dispute(intake, local_day(datetime.now(UTC)))  # the case checks it again: this files nothing
        handle = await self._start(intake, token)
        first = await self._first_steps(intake.complaint_id, wait_for_links) if wait_for_links > 0 else None
        return FilingReceipt.of(self.temporal, handle, first)

    async def _first_steps(self, complaint_id: str, wait_seconds: float) -> CaseView | None:
        """The case once it has looked up its open duplicates, or closed (rejected at intake); None if not yet."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait_seconds
        while True:
            remaining = give_up - loop.time()
            try:
                # Bounded: with no worker running, a query waits for one indefinitely.
                view = await asyncio.wait_for(self.view(complaint_id), timeout=max(remaining, 0.1))
            except (TimeoutError, RPCError, WorkflowQueryFailedError):
                return None  # the case is filed all the same; its timeline will show the links
            if any(isinstance(e, LinkedToCase) for e in view.timeline) or not view.state.is_open:
                return view
            if loop.time() >= give_up:
                return None
            await asyncio.sleep(0.05)

    async def _start(self, intake: ComplaintIntake, token: str) -> WorkflowHandle[ComplaintWorkflow, CaseOutcome]:
        try:
            return await self.temporal.start_workflow(
                ComplaintWorkflow.run,
                ComplaintInput(
                    intake=intake,
                    msisdn_token=msisdn_token(self._token_key, intake.msisdn),
                    token=token,
                    channel=self._channel,
                ),
                id=intake.complaint_id,
                task_queue=self.options.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=sa.at_filing(intake.category.value, intake.priority.value,
                                               msisdn_token(self._token_key, intake.msisdn)),
                static_summary=case_summary(intake),
                static_details=case_static_details(intake),
            )
        except WorkflowAlreadyStartedError:
            raise CaseAlreadyFiled(f"case {intake.complaint_id} is already filed") from None

    # --- reading ---------------------------------------------------------------------------

    async def view(self, complaint_id: str) -> CaseView:
        """The case's state and timeline, from its workflow.

        A run that is still opening (reading its policy or its stored events) has no state yet for a moment:
        asked again until it has.
        """
        reader = self._reader()
        # Untyped by the run method: mypy's overload match of `ComplaintWorkflow.run` depends on the order it
        # checks the import graph in, and the queries and updates are named by method anyway.
        handle: WorkflowHandle[Any, CaseOutcome] = self.temporal.get_workflow_handle(
            complaint_id, result_type=CaseOutcome
        )
        for attempt in range(OPENING_ATTEMPTS):
            try:
                view: CaseView = await handle.query(ComplaintWorkflow.view, rpc_timeout=self._query_timeout)
                check_visible(reader, complaint_id, view.state.msisdn)
                return view
            except WorkflowQueryFailedError as error:
                if NOT_OPENED in str(error):
                    raise CaseNotFound(str(error)) from None  # its filing was refused: there is no case
                if STILL_OPENING not in str(error) or attempt == OPENING_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.05)
            except RPCError as error:
                if error.status is RPCStatusCode.NOT_FOUND:
                    raise CaseNotFound(f"no case {complaint_id}") from None
                raise
        raise AssertionError("unreachable")

    async def list_cases(
        self, case_filter: CaseFilter, *, now: datetime | None = None, limit: int = 500
    ) -> list[CaseSummary]:
        """Cases matching the filter, the soonest deadline first (those without one last)."""
        reader = self._reader()
        if reader is not None and reader.role is Role.CUSTOMER:
            # A customer lists their own number's cases, found through its search token, and nothing else.
            if reader.msisdn is None:
                raise NotVisible(f"{reader.subject}'s token names no phone number: it lists no cases")
            case_filter = dataclasses.replace(case_filter, msisdn_token=self.msisdn_token(reader.msisdn))
        query = visibility_query(case_filter, now or datetime.now(UTC))
        rows: list[CaseSummary] = []
        async for execution in self.temporal.list_workflows(query, limit=limit):
            attrs = execution.typed_search_attributes
            # A run stopped from outside (terminated, failed, ...) keeps the search attributes it had then:
            # show what really happened to it instead.
            stopped = STOPPED_RUNS.get(execution.status) if execution.status else None
            rows.append(
                CaseSummary(
                    complaint_id=execution.id,
                    category=attrs.get(sa.CATEGORY),
                    priority=attrs.get(sa.PRIORITY),
                    status=stopped or attrs.get(sa.STATUS),
                    assignee=attrs.get(sa.ASSIGNEE),
                    escalation_level=attrs.get(sa.ESCALATION_LEVEL) or 0,
                    sla_due_at=attrs.get(sa.SLA_DUE_AT),
                )
            )
        far_future = datetime.max.replace(tzinfo=UTC)
        return sorted(rows, key=lambda row: (row.sla_due_at or far_future, row.complaint_id))

    # --- acting ----------------------------------------------------------------------------

    async def answer(
        self,
        complaint_id: str,
        question_id: str,
        answer: str,
        credential: Credential | None = None,
        comment: str = "",
        *,
        on_behalf_of: str | None = None,
    ) -> str:
        """The customer's answer; staff relaying it pass on_behalf_of="customer" (they may not answer as them)."""
        request = _command(
            CustomerAnswer,
            question_id=question_id,
            answer=answer,
            comment=comment,
            on_behalf_of=on_behalf_of,
            **self._act(credential),
        )
        return await self._update(complaint_id, ComplaintWorkflow.answer, request)

    async def decide(
        self, complaint_id: str, adjustment_id: str, *, approve: bool, credential: Credential | None = None,
        reason: str = "",
    ) -> str:
        """Approve or refuse a proposed adjustment of the case."""
        request = _command(
            ApprovalDecision, adjustment_id=adjustment_id, approve=approve, reason=reason, **self._act(credential)
        )
        return await self._update(complaint_id, ComplaintWorkflow.decide_adjustment, request)

    async def note(self, complaint_id: str, text: str, credential: Credential | None = None) -> int:
        """Add a note to the case; returns the note's event number."""
        request = _command(Note, text=text, **self._act(credential))
        return await self._update(complaint_id, ComplaintWorkflow.add_note, request)

    async def repair_sla(self, complaint_id: str, reason: str, credential: Credential | None = None) -> str:
        """Have the case take the deployment's corrected calendar days: `recalculated` or `unchanged`."""
        request = _command(SlaRepair, reason=reason, **self._act(credential))
        return str(await self._update(complaint_id, REPAIR_SLA, request))

    async def reassign(
        self, complaint_id: str, to_assignee: str, credential: Credential | None = None, reason: str = ""
    ) -> str:
        """Hand the case to another assignee."""
        request = _command(Reassignment, to_assignee=to_assignee, reason=reason, **self._act(credential))
        return await self._update(complaint_id, ComplaintWorkflow.reassign, request)

    async def resolve(
        self, complaint_id: str, outcome: str, summary: str, credential: Credential | None = None
    ) -> str:
        """A person resolves the case; the customer is then asked to confirm."""
        request = _command(ManualResolution, outcome=outcome, summary=summary, **self._act(credential))
        return await self._update(complaint_id, ComplaintWorkflow.resolve_manually, request)

    async def reopen(
        self, complaint_id: str, reason: str, credential: Credential | None = None, *, now: datetime | None = None
    ) -> WorkflowHandle[ComplaintWorkflow, CaseOutcome]:
        """Start a new run of a case closed within the reopen window; it continues the same event stream.

        The window is the case's own policy; the new run checks it again and reads the events itself.
        """
        token = self._token(credential)
        actor = self.whoami(token).actor(self._channel)
        view = await self.view(complaint_id)
        latest = await describe_run(self.temporal, complaint_id)
        if latest is None or latest.status not in STOPPED_RUNS:
            check_reopen(view.state, now or datetime.now(UTC), view.state.rules.reopen_window)
        # else: a run stopped from outside still answers with the state it had then; the case's end is the
        # CaseReconciled event in the store, which the new run reads and checks the window against.
        filed = view.timeline[0]
        assert isinstance(filed, ComplaintFiled)
        intake = intake_of_filed(filed)
        return await self.temporal.start_workflow(
            ComplaintWorkflow.run,
            ComplaintInput(
                intake=intake,
                msisdn_token=msisdn_token(self._token_key, intake.msisdn),
                # The worker verifies the token and records the reopener it proves (reopened_by is a claim).
                token=token,
                channel=self._channel,
                reopening=True,
                reopen_reason=reason,
                reopened_by=actor,
            ),
            id=complaint_id,
            task_queue=self.options.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=case_summary(intake),
            static_details=case_static_details(intake, reopen_reason=reason),
        )

    async def withdraw(self, complaint_id: str, reason: str, credential: Credential | None = None) -> str:
        """Withdraw the case with the filer's reason."""
        request = _command(Withdrawal, reason=reason, **self._act(credential))
        return await self._update(complaint_id, ComplaintWorkflow.withdraw, request)

    def _act(self, credential: Credential | None) -> dict[str, Any]:
        """The proof of who acts, attached to every update: the token and the channel it came through."""
        return {"token": self._token(credential), "channel": self._channel}

    async def _update(self, complaint_id: str, update: Any, request: Any) -> Any:
        # Untyped by the run method, for the reason view() gives.
        handle: WorkflowHandle[Any, CaseOutcome] = self.temporal.get_workflow_handle(
            complaint_id, result_type=CaseOutcome
        )
        return await execute_update(handle, update, request, self._update_timeout)


__all__ = [
    "OPENING_ATTEMPTS",
    "STOPPED_RUNS",
    "CaseAlreadyFiled",
    "CaseNotFound",
    "CaseSummary",
    "ClientOptions",
    "CommandRefused",
    "ComplaintClient",
    "Credential",
    "FilingReceipt",
    "NotAuthenticated",
    "NotVisible",
    "check_visible",
    "connect_temporal",
    "identity_for",
    "token_of",
]
