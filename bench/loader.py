"""Bulk-load real, hash-chained cases into a fresh event store with COPY, for the query benchmark.

Every loaded event is a valid domain event whose stored hash is the store's own chain hash, so
`verify` means something; every read-model row is what the projection would hold for its events.
Building millions of pydantic events and folds would take hours, so each case shape is built once
through the real domain code with sentinel ids and times, and cases are stamped from those
templates by string substitution; `self_check` proves a stamped case equals the real thing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import multiprocessing
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import asyncpg

from bench.common import Stopwatch, progress
from domain import events as ev
from domain.actors import ENGINE, Actor, ActorChannel, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.hashing import GENESIS_HASH, canonical_json, chain_hash
from domain.masking import mask_msisdn
from domain.policy import DEFAULT_WARN_PERCENT
from domain.sla import policy_for
from domain.state import ComplaintState, fold
from stories.forwarding_cancel import FORWARDING_CUSTOMER

SENTINEL_ID = "SENTINEL-CASE-ID"
SENTINEL_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
SENTINEL_DUE = datetime(2001, 6, 1, tzinfo=UTC)
AGENT = Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
CATEGORIES = list(Category)

EVENT_COLUMNS = ["complaint_id", "seq", "type", "version", "occurred_at", "actor_id", "actor_role", "payload",
                 "prev_hash", "hash", "recorded_at"]
COMPLAINT_COLUMNS = ["complaint_id", "category", "priority", "status", "assignee", "escalation_level",
                     "msisdn_masked", "sla_due_at", "filed_at", "updated_at", "closed_at", "outcome",
                     "money_moved_fen", "last_seq", "last_hash", "state"]

# Closed cases take 10 events plus their extras, stalled ones 8, fresh open ones 5.
KINDS = {"closed": 10, "stalled": 8, "open": 5}


def iso(moment: datetime) -> str:
    """How pydantic writes a whole-second UTC time in JSON (the text the hash covers)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sentinel_time(index: int) -> datetime:
    return SENTINEL_EPOCH + timedelta(seconds=index)


def _offsets(kind: str, extras: int) -> list[int]:
    """Seconds after filing of each event: the filing task's five at once, then a step a minute."""
    total = KINDS[kind] + extras
    return [0] * 5 + [60 * (n + 1) for n in range(total - 5)]


def _template_events(kind: str, extras: int, category: Category) -> list[ev.Event]:
    """One case's events with sentinel id and times, built by the real event classes."""
    budget = int(policy_for(category, Priority.NORMAL).resolve_within.total_seconds())
    seq = 0

    def make(event_type: type[ev.Event], actor: Actor = ENGINE, **fields: Any) -> ev.Event:
        nonlocal seq
        seq += 1
        return event_type(complaint_id=SENTINEL_ID, seq=seq, at=_sentinel_time(seq - 1), actor=actor, **fields)

    events = [
        make(ev.ComplaintFiled, AGENT, category=category, priority=Priority.NORMAL, channel=IntakeChannel.STORE,
             msisdn=FORWARDING_CUSTOMER.msisdn, customer_name=FORWARDING_CUSTOMER.name,
             id_number=FORWARDING_CUSTOMER.id_number, description="客户反映问题, 要求尽快处理并给出说明"),
        make(ev.SlaClockStarted, clock="acknowledge", budget_seconds=900, warn_percent=DEFAULT_WARN_PERCENT),
        make(ev.SlaClockStarted, clock="resolve", budget_seconds=budget, warn_percent=DEFAULT_WARN_PERCENT),
        make(ev.ComplaintAcknowledged, assignee="agent-li", message="We will find out and put it right."),
        make(ev.SlaClockStopped, clock="acknowledge"),
    ]
    for n in range(extras):
        if n % 3 == 2:
            events.append(make(ev.DecisionRecorded, decision=f"decision-{n}", reason="the records agree",
                               evidence_steps=[f"step-{n - 1}"]))
        else:
            events.append(make(ev.EvidenceRecorded, step=f"step-{n}", summary="billing system read",
                               facts={"balance_fen": 1250 + n, "status": "active"}))
    if kind == "closed":
        events += [
            make(ev.ComplaintResolved, outcome="explained", summary="Explained with the call records."),
            make(ev.SlaClockStopped, clock="resolve"),
            make(ev.CustomerAsked, question_id="confirm-resolution", question="explained: is your problem solved?",
                 options=["yes", "no"]),
            make(ev.CustomerAnswered, CUSTOMER, question_id="confirm-resolution", answer="yes"),
            make(ev.ComplaintClosed, reason="confirmed"),
        ]
    elif kind == "stalled":
        events += [
            make(ev.SlaWarned, clock="resolve", due_at=SENTINEL_DUE),
            make(ev.SlaBreached, clock="resolve", due_at=SENTINEL_DUE),
            make(ev.CaseEscalated, level=1, to_role=Role.STORE_MANAGER, reason="resolve deadline passed (1x)"),
        ]
    return events


@dataclass(frozen=True)
class Template:
    """A case shape as text: each event's canonical JSON and row fields, and the folded state."""

    events: list[tuple[str, str, int, str, str]]  # (payload, type, version, actor_id, actor_role)
    state: str
    state_model: ComplaintState
    offsets: list[int]
    budget_seconds: int
    # The running deadline, if any: (index of the event that started its clock, seconds after it).
    due: tuple[int, int] | None


@cache
def template(kind: str, extras: int, category: Category) -> Template:
    events = _template_events(kind, extras, category)
    state = fold(events)
    assert state is not None
    due = None
    if state.sla_due_at is not None:
        clock = next(c for c in state.clocks.values() if c.due_at == state.sla_due_at)
        started = int((clock.started_at - SENTINEL_EPOCH).total_seconds())
        due = (started, int((state.sla_due_at - clock.started_at).total_seconds()))
    return Template(
        due=due,
        events=[(canonical_json(e), e.type, e.version, e.actor.id, e.actor.role.value) for e in events],
        state=state.model_dump_json(),
        state_model=state,
        offsets=_offsets(kind, extras),
        budget_seconds=int(policy_for(category, Priority.NORMAL).resolve_within.total_seconds()),
    )


@dataclass(frozen=True)
class CasePlan:
    complaint_id: str
    kind: str
    extras: int
    category: Category
    filed_at: datetime


@dataclass(frozen=True)
class LoadSpec:
    cases: int
    events: int
    now: datetime
    seed: int = 20261125
    open_share: float = 0.10  # half of these are stalled (past their deadline), half not yet due

    def base_events(self) -> int:
        open_cases = int(self.cases * self.open_share)
        stalled = open_cases // 2
        return (self.cases - open_cases) * KINDS["closed"] + stalled * KINDS["stalled"] + \
            (open_cases - stalled) * KINDS["open"]


def plan_case(spec: LoadSpec, index: int) -> CasePlan:
    """Case `index` of the load: deterministic from the spec, so workers need no shared state."""
    rng = random.Random(spec.seed * 1_000_003 + index)
    open_cases = int(spec.cases * spec.open_share)
    # Spread kinds evenly over the index range so every chunk has the same mix.
    position = (index * 7919) % spec.cases
    kind = "closed" if position >= open_cases else "stalled" if position < open_cases // 2 else "open"
    extra_total = max(0, spec.events - spec.base_events())
    extras = extra_total // spec.cases + (1 if index < extra_total % spec.cases else 0)
    category = CATEGORIES[index % len(CATEGORIES)]
    budget = template(kind, extras, category).budget_seconds
    if kind == "closed":
        filed_at = spec.now - timedelta(seconds=rng.randint(3600, 365 * 86400))
    elif kind == "stalled":
        filed_at = spec.now - timedelta(seconds=budget + rng.randint(60, 30 * 86400))
    else:
        filed_at = spec.now - timedelta(seconds=rng.randint(0, max(1, budget - 120)))
        # Not yet due, and its last event (a minute per step) must not lie in the future.
        filed_at = min(filed_at, spec.now - timedelta(seconds=_offsets(kind, extras)[-1]))
    return CasePlan(f"Q-{index:07d}", kind, extras, category, filed_at.replace(microsecond=0))


def stamp(plan: CasePlan) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """The case's event rows and read-model row, from its template: (events, complaint)."""
    shape = template(plan.kind, plan.extras, plan.category)
    due = iso(plan.filed_at + timedelta(seconds=shape.budget_seconds))
    times = [plan.filed_at + timedelta(seconds=offset) for offset in shape.offsets]
    rows: list[tuple[Any, ...]] = []
    previous = GENESIS_HASH
    for n, (payload, event_type, version, actor_id, actor_role) in enumerate(shape.events):
        text = payload.replace(SENTINEL_ID, plan.complaint_id).replace(iso(_sentinel_time(n)), iso(times[n]))
        text = text.replace(iso(SENTINEL_DUE), due)
        digest = hashlib.sha256(previous.encode("ascii") + b"\n" + text.encode("utf-8")).hexdigest()
        rows.append((plan.complaint_id, n + 1, event_type, version, times[n], actor_id, actor_role, text,
                     previous, digest, times[n]))
        previous = digest
    state_text = shape.state.replace(SENTINEL_ID, plan.complaint_id)
    for n in range(len(shape.events)):
        state_text = state_text.replace(iso(_sentinel_time(n)), iso(times[n]))
    state = shape.state_model
    complaint = (
        plan.complaint_id, state.category.value, state.priority.value, state.status.value, state.assignee,
        state.escalation_level, mask_msisdn(state.msisdn),
        None if shape.due is None else times[shape.due[0]] + timedelta(seconds=shape.due[1]),
        plan.filed_at, times[-1], times[-1] if state.closed_at else None, state.outcome, state.money_moved_fen,
        len(rows), previous, state_text,
    )
    return rows, complaint


def self_check(spec: LoadSpec) -> None:
    """Stamped cases equal what the store itself would write: same payload text, hashes, projection."""
    from store.projections import projection_args

    for index in range(min(spec.cases, 12)):
        plan = plan_case(spec, index)
        rows, complaint = stamp(plan)
        parsed = [ev.parse_event(row[7]) for row in rows]
        previous = GENESIS_HASH
        for event, row in zip(parsed, rows, strict=True):
            assert canonical_json(event) == row[7], f"{plan.complaint_id}: stamped payload is not canonical"
            assert chain_hash(previous, event) == row[9], f"{plan.complaint_id}: stamped hash differs"
            previous = row[9]
        state = fold(parsed)
        assert state is not None
        expected = projection_args(state, previous, None)  # benchmark cases are stamped unsealed
        assert expected[:15] == complaint[:8] + complaint[8:15], f"{plan.complaint_id}: projection differs"
        assert json.loads(str(expected[15])) == json.loads(complaint[15]), f"{plan.complaint_id}: state differs"


# --- COPY -------------------------------------------------------------------------------------------


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _lines(rows: list[tuple[Any, ...]]) -> bytes:
    return "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows).encode("utf-8")


def build_chunk(spec: LoadSpec, start: int, stop: int) -> tuple[bytes, bytes, int]:
    """Cases [start, stop) in COPY text format: (event lines, complaint lines, event count)."""
    events: list[tuple[Any, ...]] = []
    complaints: list[tuple[Any, ...]] = []
    for index in range(start, stop):
        rows, complaint = stamp(plan_case(spec, index))
        events += rows
        complaints.append(complaint)
    return _lines(events), _lines(complaints), len(events)


def _chunks(cases: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, cases, size):
        yield start, min(cases, start + size)


async def load(database_url: str, spec: LoadSpec, *, workers: int = 2, chunk_cases: int = 5_000) -> dict[str, Any]:
    """Generate and COPY the cases, then VACUUM ANALYZE; returns counts and timings."""
    self_check(spec)
    watch = Stopwatch()
    loop = asyncio.get_running_loop()
    chunks = list(_chunks(spec.cases, chunk_cases))
    loaded_events = 0
    last_report = 0.0
    # The generators fork before this process opens its connection, so none inherits it.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [loop.run_in_executor(pool, build_chunk, spec, start, stop) for start, stop in chunks[: workers + 1]]
        queued = len(pending)
        conn = await asyncpg.connect(database_url)
        try:
            for _, stop in chunks:
                event_lines, complaint_lines, count = await pending.pop(0)
                if queued < len(chunks):  # keep the generators busy while this chunk is copied
                    pending.append(loop.run_in_executor(pool, build_chunk, spec, *chunks[queued]))
                    queued += 1
                await conn.copy_to_table("complaint_events", source=io.BytesIO(event_lines), columns=EVENT_COLUMNS)
                await conn.copy_to_table("complaints", source=io.BytesIO(complaint_lines), columns=COMPLAINT_COLUMNS)
                loaded_events += count
                if watch.seconds - last_report > 10 or stop == spec.cases:
                    last_report = watch.seconds
                    progress(f"queries: loaded {stop:,}/{spec.cases:,} cases, {loaded_events:,} events "
                             f"({loaded_events / watch.seconds:,.0f} events/s)")
            # The chain heads (their own table since migration 0007) are where each stamped chain ends.
            await conn.execute(
                """INSERT INTO chain_heads (complaint_id, last_seq, last_hash)
                   SELECT complaint_id, last_seq, last_hash FROM complaints
                   ON CONFLICT (complaint_id) DO UPDATE SET last_seq = EXCLUDED.last_seq,
                                                         last_hash = EXCLUDED.last_hash"""
            )
            load_seconds = watch.seconds
            progress("queries: VACUUM ANALYZE")
            await conn.execute("VACUUM ANALYZE complaint_events")
            await conn.execute("VACUUM ANALYZE complaints")
            size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
        finally:
            await conn.close()
    return {"cases": spec.cases, "events": loaded_events, "load_seconds": round(load_seconds, 1),
            "events_per_second": round(loaded_events / load_seconds),
            "vacuum_seconds": round(watch.seconds - load_seconds, 1), "database_size": size}
