"""The running case inside a workflow: its events, its state as their fold, and the steps playbooks use.

Everything here runs in the workflow sandbox, so it only uses workflow-safe calls: `workflow.now()`,
activities for I/O, `workflow.wait_condition` for waiting.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.cases import CaseLookupActivities, OpenCasesQuery
    from activities.event_store import EventStoreActivities, LoadEventsInput
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.remediation import CampaignCaseCheck, RemediationActivities
    from activities.trust import ProveActor, TrustActivities
    from domain import events as ev
    from domain.actors import ENGINE, Actor
    from domain.clock import local_day
    from domain.errors import InvalidCommand
    from domain.policy import CasePolicy
    from domain.sla import RESOLVE, SlaPolicy
    from domain.state import ComplaintState, apply
    from domain.ui_metadata import case_current_details
    from workflows import sla_watch
    from workflows.case_journal import ACTIVITY_TIMEOUT, CaseJournal
    from workflows.messages import ComplaintInput

T = TypeVar("T")
E = TypeVar("E", bound=ev.Event)


class Case(CaseJournal):
    """One complaint's state and timeline inside its workflow."""

    def __init__(self, start: ComplaintInput) -> None:
        super().__init__()
        self.input = start
        self.timeline: list[ev.Event] = []
        self.state: ComplaintState | None = None
        # Bumped whenever a clock changes, so the SLA watcher wakes to recompute its next mark.
        self.clock_version = 0
        # Set while the case opens (see `opening`): the time its first events carry.
        self._held_time: datetime | None = None

    # --- events ----------------------------------------------------------------------------

    @property
    def complaint_id(self) -> str:
        """The case's complaint id."""
        return self.input.intake.complaint_id

    @property
    def rules(self) -> CasePolicy:
        """The server's policy this case runs under, as its first event recorded it."""
        return self.current.rules

    @property
    def policy(self) -> SlaPolicy:
        """The deadlines of this case, from the policy recorded at filing."""
        return self.rules.sla

    def now(self) -> datetime:
        """The workflow's time, or the time held for a batch of events being committed together."""
        return self._held_time or workflow.now()

    @contextlib.asynccontextmanager
    async def opening(self) -> AsyncIterator[None]:
        """Open the case at the time its run started: every event of the opening carries that time.

        The opening reads from local activities (the opener's proof, the policy, or the stored events). After a
        local activity `workflow.now()` is not the same on replay as it was the first time, nor, now and then, is
        the first task's own time: the time is the run's start, which its history records once for every replay.
        """
        self._held_time = workflow.info().workflow_start_time
        try:
            yield
            # A filed case's first step (link_open_duplicates) saves the opening; a case rejected at intake ends,
            # and a reopened one waits for a person: both save at once.
            if self.current.rejection is not None or self.input.is_reopening:
                await self.save()
            else:
                await self.save_before_next_step()
        finally:
            self._held_time = None

    async def current_policy(self) -> CasePolicy:
        """The worker's policy for a case like this one, asked once at filing; its answer stays in history.

        A local activity, inside the first workflow task: the case is without events only for that moment
        (the view query says it is still opening, and the client asks again).
        """
        intake = self.input.intake
        return await workflow.execute_local_activity_method(
            PolicyActivities.current_policy,
            PolicyRequest(category=intake.category, priority=intake.priority, filed_on=local_day(self.now())),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    async def prove_opener(self) -> Actor:
        """Who opens this run (files or reopens), as their token proves it at the run's start.

        A local activity (see activities.trust): its verdict stays in history, so a replay never verifies again.

        A case a remediation campaign opens is proven by the batch it names instead (it has no token).

        Raises:
            InvalidCommand: the token proves nobody (missing, forged, expired, from an untrusted key), or the
                batch a campaign's case names does not hold its number.
        """
        who = "reopener" if self.input.is_reopening else "filer"
        link = self.input.remediation
        if link is not None and not self.input.is_reopening:
            # A campaign's case carries no token: the batch it names must hold its number (a claim until then).
            check = CampaignCaseCheck(complaint_id=self.complaint_id, msisdn=self.input.intake.msisdn, remediation=link)
            proven = await self.call(RemediationActivities.prove_campaign_case, check)
        else:
            proven = await workflow.execute_local_activity_method(
                TrustActivities.prove_actor,
                ProveActor(token=self.input.token, channel=self.input.channel, at=self.now()),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
            )
        if proven.actor is None:
            raise InvalidCommand(f"case {self.complaint_id} refused: the {who} is not proven: {proven.refusal}")
        return proven.actor

    async def restore(self) -> None:
        """Fold the case's events as the event store holds them (a reopened case's earlier runs).

        Read by the worker, never taken from the caller: the events carry the policy the case keeps.
        """
        events = await workflow.execute_local_activity_method(
            EventStoreActivities.load_events,
            LoadEventsInput(complaint_id=self.complaint_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )
        for event in events:
            self._fold(event)

    @property
    def current(self) -> ComplaintState:
        """The case's state; only valid once the case has its first event."""
        assert self.state is not None, "the case has no events yet"
        return self.state

    def record(self, event_type: type[E], actor: Actor = ENGINE, **fields: Any) -> E:
        """Create the next event of this case (a playbook's step, by the engine) and commit it."""
        event = event_type(
            complaint_id=self.complaint_id,
            seq=(self.state.last_seq if self.state else 0) + 1,
            at=self.now(),
            actor=actor,
            **fields,
        )
        self.commit([event])
        return event

    def commit(self, events: list[ev.Event]) -> None:
        """Fold the events a command decided into the state and queue them for saving, in order."""
        for event in events:
            self._fold(event)
            self._unsaved.append(event)
            if isinstance(event, (ev.SlaClockStarted, ev.SlaClockStopped, ev.SlaClockPaused, ev.SlaClockResumed,
                                  ev.SlaBreached, ev.ComplaintClosed, ev.CaseEscalated, ev.SlaRecalculated)):
                self.clock_version += 1

    def _fold(self, event: ev.Event) -> None:
        self.state = apply(self.state, event)
        self.timeline.append(event)
        # The Web UI's "current details", as the case moves (kept in memory, not in history: replay-safe).
        workflow.set_current_details(case_current_details(self.state, workflow.now()))

    # --- related cases -----------------------------------------------------------------------

    async def link_open_duplicates(self) -> list[str]:
        """Record which open cases of the same number and category exist (none: an empty link).

        The first step of every playbook: filing is never blocked, since a second complaint may be
        about something else, but the case, the filer and the supervisor all see the other ones.
        """
        state = self.current
        linked = await self.call(
            CaseLookupActivities.open_cases_like,
            OpenCasesQuery(complaint_id=self.complaint_id, msisdn=state.msisdn, category=state.category),
        )
        self.record(
            ev.LinkedToCase,
            linked_complaint_ids=linked,
            reason="open cases of the same number and category when this one was filed",
        )
        await self.save_before_step()  # every playbook's next step is a billing read
        return linked

    # --- the customer ------------------------------------------------------------------------

    async def ask_customer(
        self, question_id: str, question: str, options: list[str], policy: SlaPolicy | None = None
    ) -> str | None:
        """Ask and wait for the answer, reminding once; None if the customer stays silent.

        The resolve clock does not run while we wait on the customer: their silence is not our delay.
        """
        policy = policy or self.policy
        self.record(ev.CustomerAsked, question_id=question_id, question=question, options=options)
        resolve_clock = self.current.clocks.get(RESOLVE)
        paused = resolve_clock is not None and resolve_clock.due_at is not None
        if paused:
            self.record(ev.SlaClockPaused, clock=RESOLVE, reason=f"waiting for the customer ({question_id})")
        await self.save()

        def answered() -> bool:
            return question_id in self.current.answers or not self.current.is_open

        if not await self._wait(answered, policy.remind_customer_after):
            self.record(ev.CustomerReminded, question_id=question_id, reminder=1)
            await self.notify(
                f"remind-{question_id}", "customer", self.current.msisdn, "A reminder about your complaint", question
            )
            await self._wait(answered, policy.close_unconfirmed_after - policy.remind_customer_after)
        answer = self.current.answers.get(question_id)
        if paused and self.current.is_open:
            paused_since = self.current.clocks[RESOLVE].paused_since
            assert paused_since is not None
            waited = (workflow.now() - paused_since) // timedelta(milliseconds=1)
            self.record(ev.SlaClockResumed, clock=RESOLVE, paused_ms=waited)
            await self.save_before_next_step()  # the case works again: what follows saves (a step, a wait, the end)
        return answer

    @staticmethod
    async def _wait(condition: Callable[[], bool], timeout: timedelta) -> bool:
        """True if the condition held before the timeout."""
        try:
            await workflow.wait_condition(condition, timeout=timeout)
            return True
        except TimeoutError:
            return False

    # --- SLA -------------------------------------------------------------------------------

    async def watch_sla(self, policy: SlaPolicy) -> None:
        """Warn and escalate on each running clock's deadlines, until the case closes (workflows.sla_watch)."""
        await sla_watch.watch(self, policy)


def failure_type(error: ActivityError) -> str | None:
    """The application error type behind an activity failure (e.g. 'IdentityMismatch')."""
    cause = error.cause
    return cause.type if isinstance(cause, ApplicationError) else None


def failed_with(error: ActivityError, *errors: type[Exception]) -> bool:
    """True when the activity failed with one of these typed port errors.

    A port error crosses Temporal as an ApplicationError named after its class (activities/errors.py), so
    the class is matched by that name: exactly, as raised, not by its base classes.
    """
    return failure_type(error) in {kind.__name__ for kind in errors}
