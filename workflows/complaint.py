"""ComplaintWorkflow: one durable workflow per complaint, its workflow id the complaint id.

File, acknowledge, run the category's playbook, ask the customer to confirm, close. SLA clocks run
beside it; people act on it through updates that validate before anything is recorded. Each update proves
its actor with a signed token: the validator verifies it against the keys the worker trusts at
`workflow.now()`, and the handler records the actor it names (auth.trust says how the keys arrive and rotate,
and why this stays deterministic on replay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, FailureError

with workflow.unsafe.imports_passed_through():
    from auth import trust
    from auth.tokens import TokenRefused
    from domain import events as ev
    from domain.actors import Actor, ActorChannel, Role
    from domain.approval import check_answerer, check_approver
    from domain.cases import Category, Status
    from domain.errors import InvalidCommand
    from domain.events import AnyEvent
    from domain.playbooks.common import ACKNOWLEDGEMENTS
    from domain.policy import CasePolicy
    from domain.reopening import check_reopen
    from domain.sla import ACKNOWLEDGE, RESOLVE, SlaPolicy, escalation_role
    from workflows.case import Case
    from workflows.messages import (
        Act,
        ApprovalDecision,
        CaseOutcome,
        CaseView,
        ComplaintInput,
        CustomerAnswer,
        ManualResolution,
        Note,
        Reassignment,
        Withdrawal,
    )
    from workflows.playbooks import (
        arrears_dispute,
        bill_discrepancy,
        billing_spike,
        forwarding_cancel,
        spam_sms,
        tariff_dispute,
        validity_shortened,
    )
    from workflows.sla_repair import install_repair_sla

Playbook = Callable[[Case], Coroutine[Any, Any, None]]

PLAYBOOKS: dict[Category, Playbook] = {
    Category.BILLING_SPIKE: billing_spike.run,
    Category.ARREARS_DISPUTE: arrears_dispute.run,
    Category.BILL_DISCREPANCY: bill_discrepancy.run,
    Category.VALIDITY_SHORTENED: validity_shortened.run,
    Category.SPAM_SMS: spam_sms.run,
    Category.TARIFF_DISPUTE: tariff_dispute.run,
    Category.FORWARDING_CANCEL: forwarding_cancel.run,
}

CONFIRM_QUESTION = "confirm-resolution"
REMEDIATION_STEP = "remediation"
# What the view query says while a run has no state yet (its opening local activity is running).
STILL_OPENING = "is still being opened"


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, start: ComplaintInput) -> None:
        self.case = Case(start)
        self._resolved_by_hand = False
        install_repair_sla(self.case, self._verified, self._require_open)

    @workflow.run
    async def run(self, start: ComplaintInput) -> CaseOutcome:
        case = self.case
        intake = start.intake
        async with case.opening():
            if start.is_reopening:
                await case.restore()
                if case.state is None:
                    raise ApplicationError(f"no case {case.complaint_id} to reopen", type="UnknownCase",
                                           non_retryable=True)
                self._check_reopen()  # refused: the run fails, nothing recorded, the case stays as it was
                self._reopen(start)
            else:
                self._file(start, await case.current_policy())
        policy = case.policy
        sla = asyncio.create_task(case.watch_sla(policy))

        if start.is_reopening:
            # A reopened case is worked by a person (resolve_manually): running the playbook again could
            # move money a second time for the same complaint.
            await workflow.wait_condition(lambda: self._settled())
        else:
            playbook: asyncio.Task[None] = asyncio.create_task(PLAYBOOKS[intake.category](case))
            await workflow.wait_condition(lambda: playbook.done() or self._interrupted())
            if not playbook.done():
                playbook.cancel()  # withdrawn, or resolved by hand, while the playbook still worked
            else:
                try:
                    await playbook
                except (ActivityError, ChildWorkflowError, ApplicationError) as failure:
                    # A step that cannot go on ends in a state a person can act on, never in a dead run.
                    await self._needs_attention(failure)
                    await workflow.wait_condition(lambda: self._settled())
        await self._stop_clock(RESOLVE)

        if case.current.is_open:
            await self._confirm_and_close(policy)
        await case.save()
        await sla
        return self._outcome()

    def _outcome(self) -> CaseOutcome:
        state = self.case.current
        return CaseOutcome(
            complaint_id=state.complaint_id,
            status=state.status.value,
            outcome=state.outcome,
            close_reason=state.close_reason,
            money_moved_fen=state.money_moved_fen,
            events=state.last_seq,
        )

    def _check_reopen(self) -> None:
        """The reopen window is the case's own policy, checked here too: a caller's check is not enough."""
        try:
            check_reopen(self.case.current, self.case.now(), self.case.rules.reopen_window)
        except InvalidCommand as refusal:
            raise ApplicationError(str(refusal), type="ReopenRefused", non_retryable=True) from None

    async def _needs_attention(self, failure: FailureError) -> None:
        """Record why the playbook stopped, escalate one rung and tell that rung: a person takes it from here."""
        case = self.case
        step, error_type, reason = describe_failure(failure)
        level = case.current.escalation_level + 1
        role = escalation_role(level)
        case.record(ev.CaseNeedsAttention, step=step, error_type=error_type, reason=reason)
        case.record(ev.CaseEscalated, level=level, to_role=role, reason=f"needs attention: {reason}")
        await case.save()
        await case.notify(
            f"attention-{level}",
            role.value,
            role.value,
            f"Case {case.complaint_id} needs attention (level {level})",
            f"Step {step} cannot go on: {reason}. Resolve, reassign or withdraw the case.",
        )

    def _settled(self) -> bool:
        state = self.case.current
        return state.status is Status.RESOLVED or not state.is_open

    def _interrupted(self) -> bool:
        """Withdrawn, or resolved by a person, while the playbook was still working."""
        return not self.case.current.is_open or self._resolved_by_hand

    def _file(self, start: ComplaintInput, policy: CasePolicy) -> None:
        intake = start.intake
        case = self.case
        case.record(
            ev.ComplaintFiled,
            actor=intake.filed_by,
            category=intake.category,
            priority=intake.priority,
            channel=intake.channel,
            msisdn=intake.msisdn,
            customer_name=intake.customer_name,
            description=intake.description,
            id_number=intake.id_number,
            partner_msisdn=intake.partner_msisdn,
            partner_carrier=intake.partner_carrier.value if intake.partner_carrier else None,
            policy=policy,
        )
        self._start_clock(ACKNOWLEDGE, policy.sla.acknowledge_within)
        self._start_clock(RESOLVE, policy.sla.resolve_within)
        filer = intake.filed_by
        assignee = filer.id if filer.role in (Role.AGENT, Role.STORE_MANAGER) else "store-desk"
        if start.remediation is not None:  # opened by a campaign: the batch rows it rests on, first
            case.record(ev.EvidenceRecorded, step=REMEDIATION_STEP, summary=start.remediation.summary(),
                        facts=start.remediation.facts())
        case.record(
            ev.ComplaintAcknowledged, assignee=assignee, message=ACKNOWLEDGEMENTS[intake.category]
        )
        case.record(ev.SlaClockStopped, clock=ACKNOWLEDGE)

    def _reopen(self, start: ComplaintInput) -> None:
        """A new run of a closed case, under the policy it was filed with: its clocks pick up again."""
        assert start.reopened_by is not None
        self.case.record(
            ev.ComplaintReopened, actor=start.reopened_by, reason=start.reopen_reason or "reopened"
        )
        self._start_clock(RESOLVE, self.case.policy.resolve_within)

    def _start_clock(self, clock: str, budget: timedelta) -> None:
        self.case.record(
            ev.SlaClockStarted,
            clock=clock,
            budget_seconds=int(budget.total_seconds()),
            warn_percent=self.case.rules.warn_percent,
        )

    async def _stop_clock(self, clock: str) -> None:
        running = self.case.current.clocks.get(clock)
        if running is not None and not running.stopped:
            self.case.record(ev.SlaClockStopped, clock=clock)
            await self.case.save()

    async def _confirm_and_close(self, policy: SlaPolicy) -> None:
        case = self.case
        answer = await case.ask_customer(
            CONFIRM_QUESTION,
            f"{case.current.outcome}: is your problem solved?",
            ["yes", "no"],
            policy,
        )
        if not case.current.is_open:
            return
        reason = {"yes": "confirmed", "no": "not_satisfied", None: "unconfirmed"}[answer]
        if answer == "no":
            # The customer is not satisfied: a person one rung up picks it up, with the full timeline.
            level = case.current.escalation_level + 1
            case.record(
                ev.CaseEscalated,
                level=level,
                to_role=Role.STORE_MANAGER if level == 1 else Role.REGIONAL_SUPPORT,
                reason="the customer says the problem is not solved",
            )
        case.record(ev.ComplaintClosed, reason=reason)

    # --- updates: validated before they touch history ------------------------------------------

    # Every update below proves its actor with a signed token. The validator verifies it against the keys the
    # worker trusts (auth.trust explains how they arrive and rotate); the handler records the actor it names.

    def _verified(self, request: Act) -> Actor:
        """In validators only: the actor the request's token proves, or a refusal saying why not."""
        try:
            verified = trust.verify(request.token, workflow.now())
        except TokenRefused as refusal:
            raise InvalidCommand(f"refused, the actor is not proven: {refusal}") from None
        if request.channel is ActorChannel.ENGINE:
            raise InvalidCommand("refused: the engine channel is the engine's own; a person acts through another")
        return verified.actor(request.channel)

    @staticmethod
    def _recorded(request: Act) -> Actor:
        """In handlers: the actor of a token its validator verified (validators do not run on replay)."""
        return trust.claims_of_verified(request.token).actor(request.channel)

    @workflow.update
    async def answer(self, request: CustomerAnswer) -> str:
        self.case.record(
            ev.CustomerAnswered,
            actor=self._recorded(request),
            question_id=request.question_id,
            answer=request.answer,
            comment=request.comment,
            on_behalf_of=request.on_behalf_of,
        )
        await self.case.save()
        return request.answer

    @answer.validator
    def _validate_answer(self, request: CustomerAnswer) -> None:
        check_answerer(self._verified(request), request.on_behalf_of)
        pending = self.case.current.pending_question
        if pending is None or pending.question_id != request.question_id:
            asked = f"the open question is {pending.question_id!r}" if pending else "no question is open"
            raise InvalidCommand(f"case {self.case.complaint_id} did not ask {request.question_id!r}: {asked}")
        if request.answer not in pending.options:
            raise InvalidCommand(f"answer {request.answer!r} is not one of {pending.options}")

    @workflow.update
    async def decide_adjustment(self, request: ApprovalDecision) -> str:
        if request.approve:
            self.case.record(
                ev.AdjustmentApproved, actor=self._recorded(request), adjustment_id=request.adjustment_id,
                comment=request.reason,
            )
            await self.case.save()
            return "approved"
        self.case.record(
            ev.AdjustmentRefused, actor=self._recorded(request), adjustment_id=request.adjustment_id,
            reason=request.reason or "refused",
        )
        return "refused"

    @decide_adjustment.validator
    def _validate_decision(self, request: ApprovalDecision) -> None:
        check_approver(self.case.current, request.adjustment_id, self._verified(request))
        if not request.approve and not request.reason.strip():
            raise InvalidCommand("a refusal needs a reason the customer can be told")

    @workflow.update
    async def add_note(self, request: Note) -> int:
        self.case.record(ev.NoteAdded, actor=self._recorded(request), text=request.text)
        await self.case.save()
        return self.case.current.last_seq

    @add_note.validator
    def _validate_note(self, request: Note) -> None:
        self._verified(request)
        self._require_open()

    @workflow.update
    async def reassign(self, request: Reassignment) -> str:
        self.case.record(
            ev.CaseReassigned,
            actor=self._recorded(request),
            from_assignee=self.case.current.assignee,
            to_assignee=request.to_assignee,
            reason=request.reason,
        )
        await self.case.save()
        return request.to_assignee

    @reassign.validator
    def _validate_reassign(self, request: Reassignment) -> None:
        actor = self._verified(request)
        self._require_open()
        if actor.role in (Role.CUSTOMER, Role.AUDITOR):
            raise InvalidCommand(f"a {actor.role.value} cannot reassign a case")
        if request.to_assignee == self.case.current.assignee:
            raise InvalidCommand(f"case {self.case.complaint_id} is already assigned to {request.to_assignee}")

    @workflow.update
    async def resolve_manually(self, request: ManualResolution) -> str:
        self.case.record(
            ev.ComplaintResolved, actor=self._recorded(request), outcome=request.outcome, summary=request.summary
        )
        self._resolved_by_hand = True
        await self.case.save()
        return request.outcome

    @resolve_manually.validator
    def _validate_manual_resolution(self, request: ManualResolution) -> None:
        actor = self._verified(request)
        self._require_open()
        if self.case.current.status is Status.RESOLVED:
            raise InvalidCommand(f"case {self.case.complaint_id} is already resolved")
        if actor.role in (Role.CUSTOMER, Role.SYSTEM, Role.AUDITOR):
            raise InvalidCommand(f"a {actor.role.value} cannot resolve a case")

    @workflow.update
    async def withdraw(self, request: Withdrawal) -> str:
        self.case.record(ev.ComplaintWithdrawn, actor=self._recorded(request), reason=request.reason)
        self.case.record(ev.ComplaintClosed, actor=self._recorded(request), reason="withdrawn")
        await self.case.save()
        return "withdrawn"

    @withdraw.validator
    def _validate_withdraw(self, request: Withdrawal) -> None:
        actor = self._verified(request)
        self._require_open()
        if actor.role is Role.AUDITOR:
            raise InvalidCommand("an auditor reads cases and cannot withdraw one")
        if self.case.current.status is Status.RESOLVED:
            raise InvalidCommand("the case is already resolved: answer the confirmation question instead")

    def _require_open(self) -> None:
        if not self.case.current.is_open:
            raise InvalidCommand(f"case {self.case.complaint_id} is closed")

    # --- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        if self.case.state is None:
            raise InvalidCommand(f"case {self.case.complaint_id} {STILL_OPENING}: ask again in a moment")
        return CaseView(state=self.case.current, timeline=cast(list[AnyEvent], self.case.timeline))


def describe_failure(failure: BaseException) -> tuple[str, str, str]:
    """(step, error type, reason) of a playbook failure, for the record and the person who takes it over."""
    step = failure.activity_type if isinstance(failure, ActivityError) else "playbook"
    if isinstance(failure, ChildWorkflowError):
        step = failure.workflow_type
    cause: BaseException | None = failure
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError):
        return step, cause.type or "ApplicationError", cause.message
    detail = failure.__cause__ or failure
    return step, type(detail).__name__, str(detail)
