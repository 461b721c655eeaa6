"""The soak: a few hundred cases of mixed categories, driven to their end through faults, then reconciled.

`plan_cases` decides the cases (seeded, so a run can be repeated); `SoakDriver` files them with a
bounded number in flight and answers for their customers and supervisors by watching the event
store's read model (one query for all open cases, instead of one Temporal query per case);
`reconcile` then checks every case against the systems it touched and returns the figures, and runs
`starter reconcile`'s comparison (billing ledger against AdjustmentApplied, partner records against
PartnerRequestConfirmed) over the soak's cases.

The mix includes concurrent duplicates: two or three bill_discrepancy complaints about one overcharge
(same number, same category, same charge), filed at the same moment. Money must still move once per
charge: the first refunds it, the others resolve `already_refunded`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from adapters.billing import PostgresBillingSystem
from adapters.partner_carriers import HttpPartnerCarriers
from audit.reconcile import reconcile as reconcile_ledgers
from client.api import CaseAlreadyFiled, CommandRefused, ComplaintClient
from domain.cases import Category
from domain.events import parse_event
from domain.intake import ComplaintIntake
from domain.playbooks.validity_shortened import EXTEND_IF_SUSPENDED, RESTORE_NOW, VALIDITY_REMEDY_QUESTION
from store.event_store import PostgresEventStore, find_chain_break
from stories.bill_discrepancy import BILL_OVERCHARGE_CUSTOMER
from stories.people import STRANGER_ID_NUMBER, SUPERVISOR
from tests.chaos.cases import CONFIRM, CUSTOMER, forwarding_intake
from tests.chaos.partner import ChaosPartner, unicom_number
from tests.identity import signed

CLOSE_REASONS = {"yes": "confirmed", "no": "not_satisfied"}
STALE_SECONDS = 20.0  # no new event for this long: look whether the workflow is still running
RESEND_SECONDS = 1.0  # a command lost in transit is sent again after this pause
CHAOS_SECONDS = 120.0  # the longest a breakage (with its restart) may take: the stall clock waits for it
DUPLICATE_SHARE = 0.05  # of the plans, the share that starts a group of concurrent duplicate complaints
TOGETHER_WAIT_SECONDS = 5.0  # how long a duplicate waits for the rest of its group before filing anyway


def playbook_ready(category: Category) -> bool:
    """False while the category's playbook is still the placeholder that raises NotImplementedError."""
    module = importlib.import_module(f"workflows.playbooks.{category.value}")
    return "NotImplementedError" not in inspect.getsource(module.run)


@dataclass
class Plan:
    """One soak case: what is filed and how its people behave."""

    intake: ComplaintIntake
    variant: str
    answers: dict[str, str] = field(default_factory=dict)
    withdraw_at: str | None = None  # the customer withdraws when this question comes instead of answering
    approvals: dict[str, tuple[bool, str]] = field(default_factory=dict)
    partner_msisdn: str | None = None
    partner_holder_id: str | None = None  # the ID number the partner holds the number under
    lane: str | None = None  # cases about one seeded customer share a lane: few of them run at once
    together: tuple[str, int] | None = None  # (group, size): filed at the same moment as the rest of the group

    @property
    def complaint_id(self) -> str:
        return self.intake.complaint_id

    @property
    def expected_close(self) -> str:
        if self.withdraw_at is not None:
            return "withdrawn"
        return CLOSE_REASONS[self.answers.get(CONFIRM, "yes")]


def _story_plans(now: datetime) -> dict[Category, list[Any]]:
    """The demo's stories of every category whose playbook is written, by category."""
    from stories import seed_stories

    stories: dict[Category, list[Any]] = {}
    for story in seed_stories(now):
        category = story.intake.category
        if category is not Category.FORWARDING_CANCEL and playbook_ready(category):
            stories.setdefault(category, []).append(story)
    return stories


def plan_cases(count: int, seed: int, prefix: str) -> list[Plan]:
    """`count` cases: mostly forwarding cancels (each on its own partner number, so they can run at
    once), their failure branches, and the other categories' demo stories."""
    rng = random.Random(seed)
    stories = _story_plans(datetime.now(UTC))
    overcharge = _overcharge_story(stories)
    plans: list[Plan] = []
    restored: set[str] = set()  # numbers whose validity a planned case restores
    while len(plans) < count:
        n = len(plans)
        complaint_id = f"{prefix}-{n:04d}"
        confirm = "yes" if rng.random() < 0.85 else "no"
        roll = rng.random()
        if overcharge is not None and rng.random() < DUPLICATE_SHARE and count - n >= 2:
            size = min(rng.choice([2, 3]), count - n)
            plans.extend(_duplicate_group(overcharge, prefix, n, size, confirm))
        elif roll < 0.45 or (roll >= 0.7 and not stories):
            number = unicom_number(rng)
            plans.append(
                Plan(
                    forwarding_intake(number, complaint_id=complaint_id),
                    "forwarding",
                    {CONFIRM: confirm},
                    partner_msisdn=number,
                )
            )
        elif roll < 0.55:
            number = unicom_number(rng)
            plans.append(
                Plan(
                    forwarding_intake(number, complaint_id=complaint_id),
                    "forwarding/partner_refuses",
                    {CONFIRM: confirm},
                    partner_msisdn=number,
                    partner_holder_id=STRANGER_ID_NUMBER,
                )
            )
        elif roll < 0.6:
            number = unicom_number(rng)
            intake = forwarding_intake(number, complaint_id=complaint_id, id_number=STRANGER_ID_NUMBER)
            plans.append(
                Plan(intake, "forwarding/identity_rejected", {CONFIRM: confirm}, partner_msisdn=number)
            )
        else:
            category = rng.choice(sorted(stories))
            story = rng.choice(stories[category])
            intake = story.intake.model_copy(update={"complaint_id": complaint_id})
            answers = {**story.answers, CONFIRM: confirm}
            variant = category.value
            withdraw_at = None
            if category is Category.VALIDITY_SHORTENED and intake.msisdn in restored:
                # An earlier case of this number (its lane runs them in turn) restored the validity: this
                # one finds it restored, says so and asks nothing but the confirmation.
                answers.pop(VALIDITY_REMEDY_QUESTION, None)
                variant = f"{category.value}/already_restored"
            elif category is Category.VALIDITY_SHORTENED:
                # The three ways the validity case goes: restored now, promised for later, withdrawn.
                choice = rng.choice([RESTORE_NOW, EXTEND_IF_SUSPENDED, "withdraw"])
                if choice == RESTORE_NOW:
                    restored.add(intake.msisdn)
                if choice == "withdraw":
                    withdraw_at = VALIDITY_REMEDY_QUESTION
                else:
                    answers[VALIDITY_REMEDY_QUESTION] = choice
                variant = f"{category.value}/{choice}"
            plans.append(
                Plan(
                    intake,
                    variant,
                    answers,
                    withdraw_at=withdraw_at,
                    approvals=dict(story.approvals),
                    lane=intake.msisdn,
                )
            )
    return plans


def _overcharge_story(stories: dict[Category, list[Any]]) -> Any | None:
    """The bill_discrepancy story about the real ¥12.00 overcharge, if its playbook is written."""
    return next(
        (s for s in stories.get(Category.BILL_DISCREPANCY, []) if s.intake.msisdn == BILL_OVERCHARGE_CUSTOMER.msisdn),
        None,
    )


def _duplicate_group(story: Any, prefix: str, first: int, size: int, confirm: str) -> list[Plan]:
    """`size` complaints about the same overcharge (number, category and charge), filed together.

    They run outside the customer's lane, at once: only the billing system's one-remedy-per-charge
    rule stands between them and a second refund.
    """
    group = f"{prefix}-dup-{first:04d}"
    return [
        Plan(
            story.intake.model_copy(update={"complaint_id": f"{prefix}-{first + k:04d}"}),
            "bill_discrepancy/concurrent_duplicate",
            {**story.answers, CONFIRM: confirm},
            approvals=dict(story.approvals),
            together=(group, size),
        )
        for k in range(size)
    ]


# --- driving ---------------------------------------------------------------------------------------


Chaos = Callable[[], Awaitable[str]]


@dataclass
class DriveLog:
    filed: int = 0
    answers: int = 0
    approvals: int = 0
    withdrawals: int = 0
    refused_commands: int = 0  # raced with the case (already answered): harmless
    retried_commands: int = 0  # failed in transit (server restarting) and sent again
    chaos_done: list[str] = field(default_factory=list)
    timed_out: bool = False  # still progressing when the overall cap ran out
    stalled: bool = False  # no case advanced (filed, new event, closed) for the stall limit
    ended_open: list[str] = field(default_factory=list)  # workflows that ended without closing the case
    watch_errors: list[str] = field(default_factory=list)
    command_errors: Counter[str] = field(default_factory=Counter)  # why commands were sent again
    refusals: Counter[str] = field(default_factory=Counter)  # what the refused commands were told
    median_case_seconds: float = 0.0  # from filing to closing
    slowest: list[str] = field(default_factory=list)  # the longest cases from filing to closing
    stuck: list[str] = field(default_factory=list, repr=False)  # the cases still open when the drive stopped, and where


class SoakDriver:
    """Files the plans (at most `in_flight` open at once) and plays their people until all are closed."""

    def __init__(
        self,
        client: ComplaintClient,
        pool: asyncpg.Pool,
        plans: list[Plan],
        *,
        in_flight: int = 50,
        chaos: Mapping[int, Chaos] | None = None,
        poll_seconds: float = 0.25,
        lane_width: int = 1,
    ) -> None:
        self._client = client
        self._pool = pool
        self._plans = plans
        self._in_flight = asyncio.Semaphore(in_flight)
        self._lanes: dict[str, asyncio.Semaphore] = {}
        self._lane_width = lane_width
        self._groups: dict[str, asyncio.Barrier] = {}
        self._chaos = dict(chaos or {})  # filed count -> what to break then
        self._chaos_lock = asyncio.Lock()
        self._poll = poll_seconds
        self._open: dict[str, Plan] = {}
        self._closed: dict[str, asyncio.Event] = {p.complaint_id: asyncio.Event() for p in plans}
        self._handled: set[tuple[str, str]] = set()
        self._progress: dict[str, tuple[int | None, float]] = {}  # case -> (last seq seen, since when)
        self._took: dict[str, list[float]] = {}  # case -> [filed at, closed at]
        self._actions: set[asyncio.Task[None]] = set()
        self._last_stale_look = time.monotonic()
        self._last_progress = time.monotonic()  # when a case was last filed, advanced or closed
        self._breaking = False  # a chaos step (a restart) is under way: its own timeouts bound it
        self.log = DriveLog()

    async def run(self, *, stall_seconds: float, cap_seconds: float) -> DriveLog:
        """Drive every plan to its end; give up when no case advances for `stall_seconds`, or at `cap_seconds`.

        The stall limit judges progress, not speed: a slow machine that keeps moving cases is given time
        (up to the cap), a soak where every open case waits on something that never comes stops early.
        """
        started = time.monotonic()
        self._last_progress = started
        watcher = asyncio.create_task(self._watch())
        cases = asyncio.gather(*(self._case(plan) for plan in self._plans))
        try:
            while not cases.done():
                await asyncio.wait([cases], timeout=1.0)
                now = time.monotonic()
                if cases.done():
                    break
                if not self._breaking and now - self._last_progress > stall_seconds:
                    self.log.stalled = True
                elif now - started > cap_seconds:
                    self.log.timed_out = True
                else:
                    continue
                self.log.stuck = self._where_stuck(now)
                break
            if cases.done():
                cases.result()  # a chaos step that failed says so here
        finally:
            cases.cancel()
            watcher.cancel()
            for task in list(self._actions):
                task.cancel()
            await asyncio.gather(cases, watcher, *self._actions, return_exceptions=True)
        took = {cid: times[-1] - times[0] for cid, times in self._took.items() if len(times) == 2}
        by_id = {plan.complaint_id: plan for plan in self._plans}
        self.log.median_case_seconds = round(statistics.median(took.values()), 1) if took else 0.0
        self.log.slowest = [
            f"{cid} ({by_id[cid].variant}) {seconds:.0f}s" for cid, seconds in Counter(took).most_common(5)
        ]
        return self.log

    def _advanced(self) -> None:
        self._last_progress = time.monotonic()

    def _where_stuck(self, now: float) -> list[str]:
        """Each open case: its last event number, how long since it moved, and the commands sent for it."""
        lines = []
        for complaint_id in sorted(self._open):
            seq, since = self._progress.get(complaint_id, (None, now))
            sent = sorted(what for cid, what in self._handled if cid == complaint_id)
            lines.append(f"{complaint_id} at seq {seq}, still for {now - since:.0f}s, sent {sent}")
        queued = len(self._plans) - self.log.filed
        return [*lines, f"{queued} plan(s) not filed yet"] if queued else lines

    async def _case(self, plan: Plan) -> None:
        lane = self._lanes.setdefault(plan.lane, asyncio.Semaphore(self._lane_width)) if plan.lane else None
        async with self._in_flight:
            if lane is not None:
                await lane.acquire()
            try:
                if plan.together is not None:
                    group, size = plan.together
                    barrier = self._groups.setdefault(group, asyncio.Barrier(size))
                    # Bounded: a group member still queued behind the in-flight limit must not hold up the rest.
                    with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
                        await asyncio.wait_for(barrier.wait(), TOGETHER_WAIT_SECONDS)
                await self._file(plan)
                await self._closed[plan.complaint_id].wait()
            finally:
                if lane is not None:
                    lane.release()

    async def _file(self, plan: Plan) -> None:
        while True:
            try:
                # No wait for the case's links: the soak does not read them, and the wait polls the case.
                await self._client.file(plan.intake, wait_for_links=0)
                break
            except CaseAlreadyFiled:
                break  # an earlier attempt did file it; its answer was lost in the restart
            except RPCError:
                await asyncio.sleep(0.5)  # the server is restarting: file again (the id makes it once)
        self._open[plan.complaint_id] = plan
        self._took[plan.complaint_id] = [time.monotonic()]
        self.log.filed += 1
        self._advanced()
        if (chaos := self._chaos.pop(self.log.filed, None)) is not None:
            async with self._chaos_lock:  # one breakage at a time: a worker restarting needs Temporal up
                self._breaking = True
                try:
                    self.log.chaos_done.append(await asyncio.wait_for(chaos(), CHAOS_SECONDS))
                except TimeoutError:
                    # Said as what it is: a restart that never came back, not a slow soak.
                    name = getattr(chaos, "__name__", repr(chaos))
                    raise RuntimeError(f"chaos step {name} did not finish in {CHAOS_SECONDS:.0f}s") from None
                finally:
                    self._breaking = False
                    self._advanced()  # the stall clock starts again once the breakage is over

    async def _watch(self) -> None:
        while True:
            try:
                await self._look()
            except Exception as error:  # the watcher must outlive any one bad round
                # Look again on the next round. A watcher that died here would leave every case waiting for
                # answers nobody sends: the soak would stall on its own driver.
                self.log.watch_errors.append(repr(error))
            await asyncio.sleep(self._poll)

    async def _look(self) -> None:
        if self._open:
            rows = await self._pool.fetch(
                """SELECT complaint_id, status, last_seq, state->'pending_question'->>'question_id' AS question,
                          state->'adjustments' AS adjustments
                     FROM complaints WHERE complaint_id = ANY($1::text[])""",
                list(self._open),
            )
            now = time.monotonic()
            for row in rows:
                complaint_id = row["complaint_id"]
                if self._progress.get(complaint_id, (None, 0.0))[0] != row["last_seq"]:
                    self._progress[complaint_id] = (row["last_seq"], now)
                    self._advanced()
                if complaint_id in self._open:
                    self._react(self._open[complaint_id], row)
            if now - self._last_stale_look > STALE_SECONDS / 2:
                self._last_stale_look = now
                await self._give_up_on_ended_workflows(now)

    async def _give_up_on_ended_workflows(self, now: float) -> None:
        """A case whose events stopped coming may be a workflow that failed: stop waiting for it."""
        stale = [cid for cid in self._open if now - self._progress.get(cid, (None, now))[1] > STALE_SECONDS]
        for complaint_id in stale:
            try:
                description = await self._client.temporal.get_workflow_handle(complaint_id).describe()
            except RPCError:
                continue
            if description.status is not WorkflowExecutionStatus.RUNNING:
                self.log.ended_open.append(complaint_id)
                self._open.pop(complaint_id, None)
                self._closed[complaint_id].set()

    def _react(self, plan: Plan, row: asyncpg.Record) -> None:
        complaint_id = plan.complaint_id
        if row["status"] == "closed":
            if complaint_id in self._open:
                self._took[complaint_id].append(time.monotonic())
            self._open.pop(complaint_id, None)
            self._closed[complaint_id].set()
            self._advanced()
            return
        question = row["question"]
        if question is not None and question == plan.withdraw_at:
            self._act(complaint_id, f"withdraw:{question}", partial(self._withdraw, complaint_id))
        elif question is not None:
            answer = plan.answers.get(question)
            self._act(
                complaint_id, f"answer:{question}", partial(self._answer, complaint_id, question, answer)
            )
        for adjustment_id, adjustment in json.loads(row["adjustments"] or "{}").items():
            if adjustment["needs_approval"] and adjustment["status"] == "proposed":
                approve, reason = plan.approvals.get(
                    adjustment["kind"], (True, "checked against the records")
                )
                self._act(
                    complaint_id,
                    f"decide:{adjustment_id}",
                    partial(self._decide, complaint_id, adjustment_id, approve, reason),
                )

    def _act(self, complaint_id: str, what: str, command: Callable[[], Awaitable[None]]) -> None:
        """Send a command once; if it is lost in transit (server restarting), the next look sends it again.

        Only the case's refusal is final. "No such case" is not: the driver filed this case and saw it in
        the store, so a NOT_FOUND can only be the server answering before it has loaded itself again after
        a restart (its namespace, or an update it held only in memory). Taken as final, it would leave the
        case waiting for an answer nobody sends again, and the soak stalled.
        """
        key = (complaint_id, what)
        if key in self._handled:
            return
        self._handled.add(key)

        async def send() -> None:
            try:
                await command()
            except CommandRefused as refusal:
                self.log.refused_commands += 1  # raced with the case (e.g. already answered): harmless
                self.log.refusals[str(refusal)[:120]] += 1
            except Exception as error:  # any failure in transit: the next look sends it again
                self.log.retried_commands += 1
                self.log.command_errors[f"{type(error).__name__}: {str(error)[:100]}"] += 1
                await asyncio.sleep(RESEND_SECONDS)
                self._handled.discard(key)

        task = asyncio.create_task(send())
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)

    async def _answer(self, complaint_id: str, question: str, answer: str | None) -> None:
        if answer is None:
            view = await self._client.view(complaint_id)
            pending = view.state.pending_question
            if pending is None or pending.question_id != question:
                return
            answer = pending.options[0]
        await self._client.answer(complaint_id, question, answer, signed(CUSTOMER))
        self.log.answers += 1

    async def _withdraw(self, complaint_id: str) -> None:
        await self._client.withdraw(complaint_id, "the customer no longer wants it handled", signed(CUSTOMER))
        self.log.withdrawals += 1

    async def _decide(self, complaint_id: str, adjustment_id: str, approve: bool, reason: str) -> None:
        await self._client.decide(
            complaint_id, adjustment_id, approve=approve, credential=signed(SUPERVISOR), reason=reason
        )
        self.log.approvals += 1


# --- reconciling -----------------------------------------------------------------------------------


@dataclass
class Figures:
    cases_run: int = 0
    closed: int = 0
    follow_ups_waiting: int = 0  # validity follow-ups sleeping until the validity runs out: a known state
    lost_cases: set[str] = field(default_factory=set)
    duplicates_found: int = 0
    partner_faults_injected: int = 0
    process_kills: list[str] = field(default_factory=list)
    events: int = 0
    activities: int = 0
    activities_retried: int = 0  # activities that needed more than one attempt: the faults were felt
    retry_attempts: int = 0
    chains_verified: int = 0
    ledger_rows: int = 0
    adjustments_applied: int = 0
    adjustments_applied_effective: int = 0
    partner_cancels_effective: int = 0
    partner_confirmed_effective: int = 0
    joint_verifications: int = 0
    joint_verifications_confirmed: int = 0
    billing_actions: int = 0
    duplicate_groups: int = 0
    duplicate_groups_paid_once: int = 0
    reconcile_mismatches: int = 0
    seconds: float = 0.0
    by_variant: Counter[str] = field(default_factory=Counter)
    by_outcome: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def cases_lost(self) -> int:
        return len(self.lost_cases)

    def lost(self, complaint_id: str, why: str) -> None:
        self.lost_cases.add(complaint_id)
        self.problems.append(f"LOST {complaint_id}: {why}")

    def duplicate(self, what: str) -> None:
        self.duplicates_found += 1
        self.problems.append(f"DUPLICATE {what}")

    def render(self) -> str:
        lines = [
            "soak figures",
            f"  cases run            {self.cases_run} in {self.seconds:.0f}s",
            f"  closed               {self.closed} "
            f"(+ {self.follow_ups_waiting} validity follow-ups waiting, as designed)",
            (
                f"  faults injected      {self.partner_faults_injected} partner 503s (failed or lost answers), "
                f"latency on every partner call; {', '.join(self.process_kills) or 'no process kills'}"
            ),
            (
                f"  activities           {self.activities}, of which {self.activities_retried} needed "
                f"{self.retry_attempts} retries in all"
            ),
            f"  cases lost           {self.cases_lost}",
            f"  duplicates found     {self.duplicates_found}",
            f"  events               {self.events}, hash chains verified {self.chains_verified}",
            (
                f"  ledger rows          {self.ledger_rows} = AdjustmentApplied {self.adjustments_applied} "
                f"({self.adjustments_applied_effective} effective, "
                f"{self.adjustments_applied - self.adjustments_applied_effective} replayed after a lost answer)"
            ),
            (
                f"  partner cancels      {self.partner_cancels_effective} effective at the partner = "
                f"{self.partner_confirmed_effective} PartnerRequestConfirmed(cancel_forwarding, effective)"
            ),
            (
                f"  joint verifications  {self.joint_verifications} at the agent stores = "
                f"{self.joint_verifications_confirmed} PartnerRequestConfirmed(joint_verification)"
            ),
            f"  billing actions      {self.billing_actions} rows = BillingActionApplied events",
            (
                f"  duplicate groups     {self.duplicate_groups} filed at once about one charge, "
                f"{self.duplicate_groups_paid_once} with at most one ledger row"
            ),
            f"  reconcile            {self.reconcile_mismatches} mismatch(es) (starter reconcile's comparison)",
            f"  variants             {dict(sorted(self.by_variant.items()))}",
            f"  outcomes             {dict(sorted(self.by_outcome.items()))}",
        ]
        lines += [f"  ! {problem}" for problem in self.problems[:40]]
        return "\n".join(lines)


async def reconcile(
    client: ComplaintClient, pool: asyncpg.Pool, partner: ChaosPartner, plans: list[Plan]
) -> Figures:
    """Check every case against Temporal, the event store, the ledger, the action log and the partner."""
    figures = Figures(cases_run=len(plans), partner_faults_injected=partner.faults_injected)
    ids = [plan.complaint_id for plan in plans]
    by_id = {plan.complaint_id: plan for plan in plans}
    for plan in plans:
        figures.by_variant[plan.variant] += 1

    rows = await pool.fetch(
        """SELECT complaint_id, seq, payload::text AS payload, prev_hash, hash FROM complaint_events
            WHERE complaint_id = ANY($1::text[]) ORDER BY complaint_id, seq""",
        ids,
    )
    streams: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        streams.setdefault(row["complaint_id"], []).append(row)
    figures.events = len(rows)
    # Any: the reconciliation reads fields of several event types by their type name.
    events_by_case: dict[str, list[Any]] = {
        cid: [parse_event(r["payload"]) for r in stream] for cid, stream in streams.items()
    }

    ledger = await pool.fetch(
        "SELECT complaint_id, idempotency_key FROM boss.adjustment_ledger WHERE complaint_id = ANY($1::text[])",
        ids,
    )
    figures.ledger_rows = len(ledger)
    ledger_keys = Counter((row["complaint_id"], row["idempotency_key"]) for row in ledger)
    actions = await pool.fetch(
        "SELECT idempotency_key FROM boss.actions WHERE split_part(idempotency_key, ':', 1) = ANY($1::text[])",
        ids,
    )
    figures.billing_actions = len(actions)
    action_keys = Counter(row["idempotency_key"] for row in actions)
    partner_stats = await partner.stats()
    stats = partner_stats["by_msisdn"]
    figures.joint_verifications = partner_stats["joint_verifications"]

    applied_keys: Counter[tuple[str, str]] = Counter()
    billing_keys: Counter[str] = Counter()
    for complaint_id in ids:
        plan = by_id[complaint_id]
        stream = streams.get(complaint_id, [])
        events = events_by_case.get(complaint_id, [])
        if not events:
            figures.lost(complaint_id, "no events stored")
            continue
        if (broken := find_chain_break(complaint_id, stream)) is not None:
            figures.problems.append(f"CHAIN {complaint_id}: {broken}")
        else:
            figures.chains_verified += 1
        types = Counter(event.type for event in events)
        for once in ("ComplaintFiled", "ComplaintResolved", "ComplaintClosed"):
            if types[once] > 1:
                figures.duplicate(f"{complaint_id}: {types[once]} x {once}")
        closed = [event for event in events if event.type == "ComplaintClosed"]
        if not closed:
            figures.lost(complaint_id, f"not closed; last event {events[-1].type}")
            continue
        figures.closed += 1
        resolved = [event.outcome for event in events if event.type == "ComplaintResolved"]
        figures.by_outcome[resolved[-1] if resolved else f"({closed[-1].reason})"] += 1
        if closed[-1].reason != plan.expected_close:
            figures.problems.append(
                f"END {complaint_id}: closed {closed[-1].reason}, expected {plan.expected_close}"
            )
        if any(event.type == "FollowUpScheduled" for event in events):
            figures.follow_ups_waiting += 1
        applied = [event for event in events if event.type == "AdjustmentApplied"]
        per_adjustment = Counter(event.adjustment_id for event in applied)
        for adjustment_id, times in per_adjustment.items():
            if times > 1:
                figures.duplicate(f"{complaint_id}: {adjustment_id} applied {times} times")
        for event in applied:
            applied_keys[(complaint_id, event.idempotency_key)] += 1
            figures.adjustments_applied += 1
            figures.adjustments_applied_effective += int(event.effective)
        for event in events:
            if event.type == "BillingActionApplied":
                billing_keys[event.idempotency_key] += 1
            if event.type == "PartnerRequestConfirmed" and event.effective:
                if event.action == "cancel_forwarding":
                    figures.partner_confirmed_effective += 1
                else:
                    figures.joint_verifications_confirmed += 1
        if plan.partner_msisdn is not None:
            effective = stats.get(plan.partner_msisdn, {}).get("effective", 0)
            figures.partner_cancels_effective += effective
            if effective > 1:
                figures.duplicate(f"{complaint_id}: partner cancelled {effective} times")

    for key, rows_for_key in ledger_keys.items():
        if applied_keys.get(key, 0) != 1 or rows_for_key != 1:
            figures.duplicate(
                f"ledger {key}: {rows_for_key} rows, {applied_keys.get(key, 0)} AdjustmentApplied"
            )
    for key in applied_keys.keys() - ledger_keys.keys():
        figures.lost(key[0], f"AdjustmentApplied {key[1]} has no ledger row")
    for action_key, rows_for_key in action_keys.items():
        if rows_for_key != 1 or billing_keys.get(action_key, 0) != 1:
            figures.problems.append(
                f"ACTION {action_key}: {rows_for_key} rows, {billing_keys.get(action_key, 0)} events"
            )
    for action_key in billing_keys.keys() - action_keys.keys():
        figures.lost(action_key.split(":")[0], f"BillingActionApplied {action_key} has no action row")
    if figures.partner_cancels_effective != figures.partner_confirmed_effective:
        figures.problems.append(
            f"PARTNER {figures.partner_cancels_effective} effective cancels, "
            f"{figures.partner_confirmed_effective} confirmed as effective"
        )
    if figures.joint_verifications != figures.joint_verifications_confirmed:
        figures.problems.append(
            f"AGENTS {figures.joint_verifications} joint verifications, "
            f"{figures.joint_verifications_confirmed} confirmed"
        )
    _check_duplicate_groups(plans, ledger, figures)
    await _reconcile_ledgers(pool, partner, ids, figures)
    await _check_temporal(client, plans, figures)
    return figures


def _check_duplicate_groups(plans: list[Plan], ledger: list[asyncpg.Record], figures: Figures) -> None:
    """Complaints about one charge filed together: one ledger row between them, at most (the first
    of them may find the charge already refunded by an earlier group or story, and pay nothing)."""
    groups: dict[str, list[str]] = {}
    for plan in plans:
        if plan.together is not None:
            groups.setdefault(plan.together[0], []).append(plan.complaint_id)
    rows_by_case = Counter(row["complaint_id"] for row in ledger)
    figures.duplicate_groups = len(groups)
    for group, members in groups.items():
        rows = sum(rows_by_case[member] for member in members)
        if rows <= 1:
            figures.duplicate_groups_paid_once += 1
        else:
            figures.duplicate(f"group {group}: {rows} ledger rows for one overcharge ({', '.join(members)})")


async def _reconcile_ledgers(pool: asyncpg.Pool, partner: ChaosPartner, ids: list[str], figures: Figures) -> None:
    """`starter reconcile` over the soak's cases: the ledger and the partners' records against the events."""
    ledger = await PostgresBillingSystem(pool).ledger(ids)
    async with HttpPartnerCarriers(partner.url) as partners:
        records = await partners.records()
    report = await reconcile_ledgers(PostgresEventStore(pool), ledger, records, complaint_ids=ids)
    figures.reconcile_mismatches = len(report.mismatches)
    figures.problems.extend(f"RECONCILE {mismatch.line()}" for mismatch in report.mismatches)


async def _check_temporal(client: ComplaintClient, plans: list[Plan], figures: Figures) -> None:
    """Each case is one completed workflow run; each promised follow-up is one sleeping workflow."""
    runs: Counter[str] = Counter()
    query = f"TaskQueue = '{client.options.task_queue}' AND WorkflowType = 'ComplaintWorkflow'"
    async for execution in client.temporal.list_workflows(query):
        runs[execution.id] += 1
    for plan in plans:
        if runs[plan.complaint_id] > 1:
            figures.duplicate(f"{plan.complaint_id}: {runs[plan.complaint_id]} workflow runs")

    async def status(workflow_id: str) -> WorkflowExecutionStatus | None:
        try:
            return (await client.temporal.get_workflow_handle(workflow_id).describe()).status
        except RPCError:
            return None

    async def failure(workflow_id: str) -> str:
        try:
            await client.temporal.get_workflow_handle(workflow_id).result()
        except WorkflowFailureError as error:
            causes = []
            cause: BaseException | None = error.cause
            while cause is not None:
                causes.append(f"{type(cause).__name__}: {cause}")
                cause = cause.__cause__
            return " <- ".join(causes)
        return ""

    semaphore = asyncio.Semaphore(20)

    async def check(plan: Plan) -> None:
        async with semaphore:
            seen = await status(plan.complaint_id)
            history = await client.temporal.get_workflow_handle(plan.complaint_id).fetch_history()
            for event in history.events:
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                    figures.activities += 1
                    attempt = event.activity_task_started_event_attributes.attempt
                    if attempt > 1:
                        figures.activities_retried += 1
                        figures.retry_attempts += attempt - 1
            if seen is not WorkflowExecutionStatus.COMPLETED:
                why = await failure(plan.complaint_id) if seen is WorkflowExecutionStatus.FAILED else ""
                figures.lost(plan.complaint_id, f"workflow is {seen.name if seen else 'missing'} {why}")
            if plan.variant.endswith(EXTEND_IF_SUSPENDED):
                follow_up = await status(f"validity-follow-up-{plan.complaint_id}")
                if follow_up is not WorkflowExecutionStatus.RUNNING:
                    figures.lost(plan.complaint_id, f"validity follow-up is {follow_up}")

    await asyncio.gather(*(check(plan) for plan in plans))
