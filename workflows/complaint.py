"""ComplaintWorkflow: one durable workflow per complaint, its workflow id the complaint id.

File, acknowledge, run the category's playbook, ask the customer to confirm, close; or, for a complaint the
regulator's rules do not accept (domain.regulatory.admissibility), file and reject it at once. SLA clocks run
beside it; people act on it through updates that validate before anything is recorded. Every rule is the
domain's (domain.commands): an update's validator runs its command as a dry run on the folded state, and its
handler commits the events the same command returns. Whoever files or reopens proves it with their token,
verified when the run opens (activities.trust); a run whose token proves nobody records nothing. Each update proves
its actor with a signed token: the validator verifies it against the keys the worker trusts at
`workflow.now()`, and the handler records the actor it names (auth.trust says how the keys arrive and rotate,
and why this stays deterministic on replay).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from typing import Any, cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, FailureError

with workflow.unsafe.imports_passed_through():
    from auth import trust
    from domain import commands
    from domain import events as ev
    from domain.actors import Actor
    from domain.cases import Category, Status
    from domain.errors import DomainError, InvalidCommand
    from domain.events import AnyEvent
    from domain.sla import RESOLVE, SlaPolicy, escalation_role
    from domain.state import ComplaintState
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
# What the view query says while a run has no state yet (its opening local activity is running).
STILL_OPENING = "is still being opened"
# What it says when its opening was refused (the filer or reopener not proven, a reopen out of its window).
NOT_OPENED = "was not opened"


@workflow.defn
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, start: ComplaintInput) -> None:
        self.case = Case(start)
        self._resolved_by_hand = False
        # Why the opening was refused (a run that files nothing): what the view query says then.
        self._refusal: str | None = None
        install_repair_sla(self.case, self._verified, lambda: commands.require_open(self._state()))

    @workflow.run
    async def run(self, start: ComplaintInput) -> CaseOutcome:
        """Open the case, run its category's playbook, and return how the case ended."""
        case = self.case
        intake = start.intake
        async with case.opening():
            with self._refused_as("ReopenRefused" if start.is_reopening else "FilingRefused"):
                # Who opens the run is proven like every act (see activities.trust for why it is an activity
                # here); refused, the run fails saying why and nothing is recorded: no case with a made-up filer.
                if start.is_reopening:
                    # Restored first, so a refused reopening still shows the case as it stays (closed).
                    await case.restore()
                    if case.state is None:
                        raise ApplicationError(f"no case {case.complaint_id} to reopen", type="UnknownCase",
                                               non_retryable=True)
                    opener = await case.prove_opener()
                    reopening = commands.ReopenComplaint(actor=opener, reason=start.reopen_reason or "reopened")
                    case.commit(commands.reopen(case.current, reopening, case.now()))
                else:
                    filing = commands.FileComplaint(intake=intake, filer=await case.prove_opener(),
                                                    remediation=start.remediation)
                    case.commit(commands.file_complaint(filing, case.now(), await case.current_policy()))
        if case.current.rejection is not None:
            # Not accepted at intake (a regulator's rule, under the policy just recorded): the filing and the
            # rejection are saved; no clock, no playbook, nothing left to wait for.
            await workflow.wait_condition(workflow.all_handlers_finished)
            return self._outcome()
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
        # An update accepted just before the end still finishes (and saves) before the run completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await case.save()
        return self._outcome()

    @contextlib.contextmanager
    def _refused_as(self, failure_type: str) -> Iterator[None]:
        """A refused opening fails the run with `failure_type` and the domain's reason: clear, never retried."""
        try:
            yield
        except DomainError as refusal:
            self._refusal = str(refusal)
            raise ApplicationError(self._refusal, type=failure_type, non_retryable=True) from None

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

    async def _needs_attention(self, failure: FailureError) -> None:
        """Record why the playbook stopped, escalate one rung and tell that rung: a person takes it from here."""
        case = self.case
        step, error_type, reason = describe_failure(failure)
        case.commit(commands.needs_attention(case.current, case.now(), step, error_type, reason))
        level = case.current.escalation_level
        role = escalation_role(level)
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

    async def _stop_clock(self, clock: str) -> None:
        running = self.case.current.clocks.get(clock)
        if running is not None and not running.stopped:
            self.case.record(ev.SlaClockStopped, clock=clock)
            await self.case.save_before_step()  # what follows saves: asking for confirmation, or the end

    async def _confirm_and_close(self, policy: SlaPolicy) -> None:
        case = self.case
        answer = await case.ask_customer(
            CONFIRM_QUESTION,
            f"{case.current.outcome}: is your problem solved?",
            ["yes", "no"],
            policy,
        )
        if case.current.is_open:
            case.commit(commands.close_on_confirmation(case.current, answer, case.now()))

    # --- updates: each validator runs its command as a dry run, each handler commits what it returns -----

    # Every update below proves its actor with a signed token. The validator verifies it against the keys the
    # worker trusts (auth.trust explains how they arrive and rotate); the handler records the actor it names.

    def _verified(self, request: Act) -> Actor:
        """In validators only: the actor the request's token proves, or a refusal saying why not."""
        return trust.proven_actor(request.token, request.channel, workflow.now())

    @staticmethod
    def _recorded(request: Act) -> Actor:
        """In handlers: the actor of a token its validator verified (validators do not run on replay)."""
        return trust.claims_of_verified(request.token).actor(request.channel)

    def _state(self) -> ComplaintState:
        if self.case.state is None:
            raise InvalidCommand(f"case {self.case.complaint_id} {STILL_OPENING}: ask again in a moment")
        return self.case.state

    def _now(self) -> datetime:
        return workflow.now()

    async def _commit(self, events: list[ev.Event]) -> int:
        self.case.commit(events)
        await self.case.save()
        return self.case.current.last_seq

    @workflow.update
    async def answer(self, request: CustomerAnswer) -> str:
        """Record a customer's answer to a question the case asked (update)."""
        await self._commit(commands.answer(self._state(), _answer(request, self._recorded(request)), self._now()))
        return request.answer

    @answer.validator
    def _validate_answer(self, request: CustomerAnswer) -> None:
        commands.answer(self._state(), _answer(request, self._verified(request)), self._now())

    @workflow.update
    async def decide_adjustment(self, request: ApprovalDecision) -> str:
        """Record an approver's decision on a proposed adjustment (update)."""
        # Saved either way: a refusal is as much the case's history as an approval.
        await self._commit(commands.decide(self._state(), _decision(request, self._recorded(request)), self._now()))
        return "approved" if request.approve else "refused"

    @decide_adjustment.validator
    def _validate_decision(self, request: ApprovalDecision) -> None:
        commands.decide(self._state(), _decision(request, self._verified(request)), self._now())

    @workflow.update
    async def add_note(self, request: Note) -> int:
        """Add a note to the case and return its event number (update)."""
        note = commands.AddNote(actor=self._recorded(request), text=request.text)
        return await self._commit(commands.add_note(self._state(), note, self._now()))

    @add_note.validator
    def _validate_note(self, request: Note) -> None:
        commands.add_note(self._state(), commands.AddNote(actor=self._verified(request), text=request.text),
                          self._now())

    @workflow.update
    async def reassign(self, request: Reassignment) -> str:
        """Hand the case to another assignee (update)."""
        await self._commit(commands.reassign(self._state(), _reassign(request, self._recorded(request)), self._now()))
        return request.to_assignee

    @reassign.validator
    def _validate_reassign(self, request: Reassignment) -> None:
        commands.reassign(self._state(), _reassign(request, self._verified(request)), self._now())

    @workflow.update
    async def resolve_manually(self, request: ManualResolution) -> str:
        """Resolve the case by hand, ending its playbook (update)."""
        events = commands.resolve(self._state(), _resolve(request, self._recorded(request)), self._now())
        self._resolved_by_hand = True
        await self._commit(events)
        return request.outcome

    @resolve_manually.validator
    def _validate_manual_resolution(self, request: ManualResolution) -> None:
        commands.resolve(self._state(), _resolve(request, self._verified(request)), self._now())

    @workflow.update
    async def withdraw(self, request: Withdrawal) -> str:
        """Withdraw the case at the filer's request (update)."""
        withdrawal = commands.Withdraw(actor=self._recorded(request), reason=request.reason)
        await self._commit(commands.withdraw(self._state(), withdrawal, self._now()))
        return "withdrawn"

    @withdraw.validator
    def _validate_withdraw(self, request: Withdrawal) -> None:
        withdrawal = commands.Withdraw(actor=self._verified(request), reason=request.reason)
        commands.withdraw(self._state(), withdrawal, self._now())

    # --- queries ---------------------------------------------------------------------------

    @workflow.query
    def view(self) -> CaseView:
        """The case's state and timeline as a caller sees them (query)."""
        if self.case.state is None and self._refusal is not None:
            raise InvalidCommand(f"case {self.case.complaint_id} {NOT_OPENED}: {self._refusal}")
        if self.case.state is None:
            raise InvalidCommand(f"case {self.case.complaint_id} {STILL_OPENING}: ask again in a moment")
        return CaseView(state=self.case.current, timeline=cast(list[AnyEvent], self.case.timeline))


# --- the domain's commands, from the updates' messages and the actor their token proves ----------------


def _answer(request: CustomerAnswer, actor: Actor) -> commands.AnswerQuestion:
    return commands.AnswerQuestion(actor=actor, question_id=request.question_id, answer=request.answer,
                                   comment=request.comment, on_behalf_of=request.on_behalf_of)


def _decision(request: ApprovalDecision, actor: Actor) -> commands.DecideAdjustment:
    return commands.DecideAdjustment(actor=actor, adjustment_id=request.adjustment_id, approve=request.approve,
                                     reason=request.reason)


def _reassign(request: Reassignment, actor: Actor) -> commands.Reassign:
    return commands.Reassign(actor=actor, to_assignee=request.to_assignee, reason=request.reason)


def _resolve(request: ManualResolution, actor: Actor) -> commands.Resolve:
    return commands.Resolve(actor=actor, outcome=request.outcome, summary=request.summary)


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
