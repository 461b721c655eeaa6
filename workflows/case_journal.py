"""How a running case's events reach the event store, and how it calls activities.

Events a command decided are queued (`Case.commit`) and written in seq order: by a save of their own, or riding
in the next activity the case runs anyway (a business step, a notice), which saves them before its own work.
A save remains where the case waits for a person or ends, so the read model is current whenever nobody is
working on the case. Workflow code: activities only, no I/O of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.event_store import AppendEventsInput, EventStoreActivities
    from activities.liveness import WORKER_LIVENESS
    from activities.notifications import NotificationActivities, SaveAndNotifyInput
    from activities.pending import takes_pending
    from domain import events as ev
    from domain.events import AnyEvent
    from ports.billing_errors import UnknownCustomer
    from ports.notifications import Notification
    from ports.partners import IdentityMismatch, UnknownNumber
    from workflows import search_attributes as sa

if TYPE_CHECKING:
    from domain.state import ComplaintState
    from workflows.messages import ComplaintInput

T = TypeVar("T")

# Reads and idempotent writes against our own systems: retry quickly and for long, since a case
# must survive a database restart rather than fail.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    # The ports' business answers: asking again will not change them.
    non_retryable_error_types=[
        IdentityMismatch.__name__, UnknownNumber.__name__, UnknownCustomer.__name__, ValueError.__name__
    ],
)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
SAVE_TIMEOUT = timedelta(seconds=20)
# A save is retried until it lands: the events are decided and fixed in history, so they must be stored.
SAVE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10))
# workflow.patched id: a notification's activity saves the events before it (NotificationActivities.save_and_notify).
EVENTS_RIDE_WITH_NOTICES = "events-ride-with-notices"
# workflow.patched id: a business activity saves the case's pending events before its work (activities.pending).
EVENTS_RIDE_WITH_STEPS = "events-ride-with-steps"
# workflow.patched id: a save takes every event its workflow task commits (and those riding with a step still running);
# the opening and a resumed clock ride with the next step.
SAVES_GATHER = "saves-gather"


async def call_activity(
    activity: Callable[..., Awaitable[T]],
    *args: Any,
    timeout: timedelta = ACTIVITY_TIMEOUT,
    retry: RetryPolicy = ACTIVITY_RETRY,
    pending: AppendEventsInput | None = None,
) -> T:
    """Run an activity method with the engine's timeout and retry policy: every workflow's one way to call one.

    `pending` (a case's unsaved events) goes to an activity that saves them before its work (activities.pending).
    It is sent even when None: the SDK decodes arguments by their types only when all of them are sent.
    """
    if takes_pending(activity):
        args = (*args, pending)
    return await workflow.execute_activity_method(
        activity,
        args=list(args),
        start_to_close_timeout=timeout,
        heartbeat_timeout=WORKER_LIVENESS,
        retry_policy=retry,
    )


def _built_with(patch_id: str) -> bool:
    """Whether this run takes the branch of an earlier `patch_id`: a run this build starts takes every one.

    Such a run records one marker, the newest patch's (SAVES_GATHER), not one per patch: each marker also makes the
    SDK upsert the TemporalChangeVersion search attribute, so a patch costs a new run two history events. A run an
    earlier build started replays with the markers it recorded (then SAVES_GATHER is absent and `patched` is asked).
    """
    return workflow.patched(SAVES_GATHER) or workflow.patched(patch_id)


async def _let_the_task_settle() -> None:
    """Return once every coroutine this workflow task woke has run on to its next wait.

    So a save takes every event the task commits: an update's answer and what the playbook it wakes commits (a
    resumed clock, the close) go in one save, not one each. A waiting coroutine is woken when the conditions are
    checked, which happens only when nothing else is ready; its wake-up may take several hops (a wait with a
    timeout does). The first wait ends in the round of checks that wakes them, the second once all their hops
    have run. Deterministic: the same task runs the same way on replay.
    """
    await workflow.wait_condition(lambda: True)
    await workflow.wait_condition(lambda: True)


class CaseJournal:
    """The case's unsaved events and the activities that save them; `Case` adds the domain's steps."""

    input: ComplaintInput  # set by Case

    def __init__(self) -> None:
        self._unsaved: list[ev.Event] = []
        # Events sent with a step still running (see `call`): a save meanwhile sends them again (it may land first).
        self._riding: list[ev.Event] = []
        self._save_lock = asyncio.Lock()
        # What visibility holds already: the client sets the filing's attributes with the start.
        self._published: dict[str, Any] = sa.published_at_start(workflow.info().typed_search_attributes)

    @property
    def complaint_id(self) -> str:
        """The case's complaint id."""
        raise NotImplementedError

    @property
    def current(self) -> ComplaintState:
        """The case's state: the fold of its events so far."""
        raise NotImplementedError

    async def save(self) -> None:
        """Write the queued events to PostgreSQL in order, then publish the search attributes.

        Returns once every event committed so far is stored, those riding with a step still running included (runs
        started before saves gathered leave those to their step).
        """
        await self._save_with(EventStoreActivities.append_events, lambda events: events)

    async def save_before_step(self) -> None:
        """Make the events so far durable with whatever writes next, before anything else happens.

        For a save followed by a business activity (see `call`), a notice (`notify`) or another save: the
        events ride with it. Runs recorded before events rode with steps saved them here, in an activity of
        their own.
        """
        if not _built_with(EVENTS_RIDE_WITH_STEPS):
            await self.save()

    async def save_before_next_step(self) -> None:
        """Leave the events to the next step, showing in visibility what they changed; as `save_before_step`.

        Where runs started before saves gathered (SAVES_GATHER) saved at once: after the opening, and after a clock
        resumed when a wait ended.
        """
        if workflow.patched(SAVES_GATHER):
            # Visibility shows what the events changed (the due time, the status) while the next step runs: a case
            # stuck in it (a partner down) must still be listed as at risk.
            self.publish_search_attributes()
            await self.save_before_step()
        else:
            await self.save()

    async def _save_with(
        self, activity: Callable[..., Awaitable[Any]], request: Callable[[AppendEventsInput], Any]
    ) -> bool:
        """Run `activity` on `request(the queued events)`, which saves them first; then publish the search attributes.

        False when there was nothing to save, and nothing ran.

        A regular activity, not a local one: its input (the events) is fixed in history before it runs, so a
        workflow task retried after a crash cannot save different timestamps under the same sequence numbers.
        """
        gathers = workflow.patched(SAVES_GATHER)
        async with self._save_lock:
            if gathers:
                # After the lock, which may have waited for a save still running: what woke meanwhile goes too.
                await _let_the_task_settle()
            # Events riding with a step still running go again (idempotent by seq): whoever saves wants them stored
            # now, not when the step ends, which may be long (a partner's retries) for an update's answer.
            if not self._unsaved and not (gathers and self._riding):
                return False
            batch, self._unsaved = self._unsaved, []
            events = self._append_input(self._riding + batch)
            try:
                await workflow.execute_activity_method(
                    activity,
                    request(events),
                    start_to_close_timeout=SAVE_TIMEOUT,
                    heartbeat_timeout=WORKER_LIVENESS,
                    retry_policy=SAVE_RETRY,
                )
            except asyncio.CancelledError:
                # The caller was cancelled (e.g. a withdrawn case's playbook): keep the events for the
                # next save. Saving them twice is harmless, since appends are idempotent by seq.
                self._unsaved = batch + self._unsaved
                raise
            self.publish_search_attributes()
            return True

    def publish_search_attributes(self) -> None:
        """Keep visibility current, upserting only what changed (each upsert is a history event)."""
        state = self.current
        wanted: dict[str, Any] = {
            sa.CATEGORY.name: state.category.value,
            sa.PRIORITY.name: state.priority.value,
            sa.STATUS.name: state.status.value,
            sa.ASSIGNEE.name: state.assignee,
            sa.ESCALATION_LEVEL.name: state.escalation_level,
            sa.SLA_DUE_AT.name: state.sla_due_at,
            sa.MSISDN_TOKEN.name: self.input.msisdn_token,
        }
        keys = {key.name: key for key in sa.ALL}
        updates = []
        for name, value in wanted.items():
            if self._published.get(name, ...) == value:
                continue
            key = keys[name]
            updates.append(key.value_unset() if value is None else key.value_set(value))
            self._published[name] = value
        if updates:
            workflow.upsert_search_attributes(updates)

    def key(self, step: str) -> str:
        """The idempotency key of a side effect: the case, which run of it, and the step."""
        return f"{self.complaint_id}:r{self.current.reopened}:{step}"

    async def call(
        self,
        activity: Callable[..., Awaitable[T]],
        *args: Any,
        timeout: timedelta = ACTIVITY_TIMEOUT,
        retry: RetryPolicy = ACTIVITY_RETRY,
    ) -> T:
        """Run an activity method with the engine's timeout and retry policy.

        When the activity takes a case's pending events (activities.pending), the unsaved events ride along: it
        saves them before its own work, and no save of their own is needed.
        """
        if not (self._unsaved and takes_pending(activity) and _built_with(EVENTS_RIDE_WITH_STEPS)):
            return await call_activity(activity, *args, timeout=timeout, retry=retry)
        async with self._save_lock:  # a save still running lands first: appends stay in seq order
            batch, self._unsaved = self._unsaved, []
        self._riding += batch
        try:
            pending = self._append_input(self._riding)
            result = await call_activity(activity, *args, timeout=timeout, retry=retry, pending=pending)
        except BaseException:
            # Failed or cancelled: the events may not be stored. The next save sends them again (idempotent by seq).
            self._unsaved = batch + self._unsaved
            raise
        finally:
            done = {event.seq for event in batch}
            self._riding = [event for event in self._riding if event.seq not in done]
        # Visibility follows at the next save or notice, before any wait: an upsert per step would be a history
        # event each.
        return result

    def _append_input(self, events: list[ev.Event]) -> AppendEventsInput:
        return AppendEventsInput(complaint_id=self.complaint_id, events=cast(list[AnyEvent], events))

    async def notify(self, step: str, role: str, recipient: str, subject: str, body: str) -> None:
        """Save the events that led here, then notify `recipient` with an idempotency key of this step.

        The unsaved events ride in the notification's own activity: one round trip where a save and a
        notify were two (a warning's or an escalation's events, and the notice of them).
        """
        notification = Notification(
            idempotency_key=self.key(step),
            complaint_id=self.complaint_id,
            recipient_role=role,
            recipient=recipient,
            subject=subject,
            body=body,
        )
        if self._unsaved and _built_with(EVENTS_RIDE_WITH_NOTICES):
            if await self._save_with(
                NotificationActivities.save_and_notify,
                lambda events: SaveAndNotifyInput(events=events, notification=notification),
            ):
                return
            # Another save took the events while this one waited for the lock: notify alone.
        elif self._unsaved:
            await self.save()  # runs recorded before the patch saved in an activity of their own
        await self.call(NotificationActivities.notify, notification)
        # What the steps before it changed (they publish nothing: see `call`) shows while the notified wait.
        self.publish_search_attributes()
