"""SLA what-if at scale: how long `starter sla what-if` takes to replay N case histories under another policy.

The histories are made in memory (a filing, a resolve clock with a pause in a third of them, a stop and a
resolution), recorded under the wall-clock rules; the what-if policy puts them on store hours. Only the
replay is timed (domain/sla_replay.py), not reading the events from PostgreSQL. The issue's target is
100k cases in under a minute; `quick` runs 10k and extrapolates, `full` runs 100k.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Section, progress
from domain import events as ev
from domain.actors import ENGINE, Actor, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.policy import LEGACY_POLICY, Policy
from domain.sla_replay import what_if

TARGET_CASES, TARGET_SECONDS = 100_000, 60.0
AGENT = Actor(id="agent-bench", role=Role.AGENT)
CATEGORIES = (Category.BILLING_SPIKE, Category.TARIFF_DISPUTE, Category.SPAM_SMS, Category.VALIDITY_SHORTENED)
START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


def history(index: int) -> list[ev.Event]:
    category = CATEGORIES[index % len(CATEGORIES)]
    at = START + timedelta(minutes=97 * index % (300 * 24 * 60))
    rules = LEGACY_POLICY.for_case(category, Priority.NORMAL)
    case_id = f"BENCH-{index:07d}"
    events: list[ev.Event] = [
        ev.ComplaintFiled(complaint_id=case_id, seq=1, at=at, actor=AGENT, category=category,
                          priority=Priority.NORMAL, channel=IntakeChannel.STORE, msisdn="13800000000",
                          customer_name="x", description="y", policy=rules),
        ev.SlaClockStarted(complaint_id=case_id, seq=2, at=at, actor=ENGINE, clock="resolve",
                           budget_seconds=int(rules.sla.resolve_within.total_seconds()), warn_percent=80),
    ]
    if index % 3 == 0:
        paused, resumed = at + timedelta(minutes=20), at + timedelta(hours=14)
        events.append(ev.SlaClockPaused(complaint_id=case_id, seq=3, at=paused, actor=ENGINE, clock="resolve",
                                        reason="waiting for the customer"))
        events.append(ev.SlaClockResumed(complaint_id=case_id, seq=4, at=resumed, actor=ENGINE, clock="resolve",
                                         paused_ms=int((resumed - paused).total_seconds() * 1000)))
    done = at + timedelta(hours=(index * 7) % 60 + 1)
    events.append(ev.SlaClockStopped(complaint_id=case_id, seq=len(events) + 1, at=done, actor=ENGINE,
                                     clock="resolve"))
    events.append(ev.ComplaintResolved(complaint_id=case_id, seq=len(events) + 1, at=done, actor=ENGINE,
                                       outcome="explained", summary="done"))
    return events


def run(config: dict[str, Any]) -> Section:
    cases = int(config["cases"])
    progress(f"what-if: making {cases} histories")
    histories = [history(i) for i in range(cases)]
    progress("what-if: replaying")
    started = time.perf_counter()
    rows, flips = what_if(histories, Policy(version="bench-store-hours"), datetime(2027, 1, 1, tzinfo=UTC))
    seconds = time.perf_counter() - started
    per_case_ms = 1000 * seconds / cases
    projected = per_case_ms * TARGET_CASES / 1000
    section = Section(
        name="what_if",
        title="SLA what-if: replaying stored histories under another policy",
        params={"cases": cases},
        metrics={"seconds": round(seconds, 2), "ms_per_case": round(per_case_ms, 3),
                 "projected_seconds_for_100k": round(projected, 1), "flips": len(flips)},
        headers=["category", "cases", "breached before", "breached after"],
        rows=[[r.category.value, r.cases, r.breached_before, r.breached_after] for r in rows],
        target=f"{TARGET_CASES:,} cases in under {TARGET_SECONDS:.0f} s",
        target_met=projected < TARGET_SECONDS,
    )
    section.notes.append(f"{cases} cases in {seconds:.1f} s ({per_case_ms:.2f} ms each); 100k: {projected:.0f} s")
    return section
