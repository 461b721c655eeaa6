"""Supervisor reads at scale: a fresh database loaded with real hash-chained cases (bench.loader),
then p50/p95 of the three reads a supervisor or auditor runs:

- the stalled-case listing: open cases past their SLA deadline, the most overdue first, LIMIT 50,
  from the read model (served by the partial index complaints_open_by_due);
- one case's timeline: its events in seq order, parsed into domain events (PostgresEventStore.load_stored);
- verifying one case: re-hashing its chain (PostgresEventStore.verify -> find_chain_break).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.common import Section, fresh_database, progress, summary_ms
from bench.loader import LoadSpec, load, plan_case
from store.event_store import PostgresEventStore
from store.migrate import migrate
from store.projections import PROJECTION_COLUMNS

STALLED_LISTING = f"""
SELECT {PROJECTION_COLUMNS} FROM complaints
 WHERE status <> 'closed' AND sla_due_at < $1
 ORDER BY sla_due_at
 LIMIT 50
"""
TIMELINE_SQL = """SELECT payload::text AS payload, prev_hash, hash, recorded_at FROM complaint_events
                  WHERE complaint_id = $1 ORDER BY seq"""
WARM_UP = 10
TARGET_MS = 50.0


async def _time(samples: int, call: Any, args: list[Any]) -> list[float]:
    for arg in args[:WARM_UP]:
        await call(arg)
    seconds: list[float] = []
    for n in range(samples):
        started = time.perf_counter()
        await call(args[n % len(args)])
        seconds.append(time.perf_counter() - started)
    return seconds


async def run(cfg: dict[str, Any], server_url: str) -> Section:
    section = Section("queries", "Supervisor queries at scale")
    now = datetime.now(UTC).replace(microsecond=0)
    spec = LoadSpec(cases=cfg["cases"], events=cfg["events"], now=now)
    samples = cfg["samples"]
    section.params = {"cases": spec.cases, "events": spec.events, "samples": samples,
                      "open_share": spec.open_share, "warm_up": WARM_UP}
    async with fresh_database(server_url, "bench_q") as database_url:
        conn = await asyncpg.connect(database_url)
        await migrate(conn)
        await conn.close()
        progress(f"queries: loading {spec.cases:,} cases / {spec.events:,} events (COPY)")
        loaded = await load(database_url, spec)
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
        try:
            store = PostgresEventStore(pool)
            rng = random.Random(7)
            case_ids = [plan_case(spec, rng.randrange(spec.cases)).complaint_id for _ in range(samples)]
            progress(f"queries: timing {samples} of each read")

            async def listing(at: datetime) -> list[asyncpg.Record]:
                return await pool.fetch(STALLED_LISTING, at)

            async def timeline_sql(case_id: str) -> list[asyncpg.Record]:
                return await pool.fetch(TIMELINE_SQL, case_id)

            listing_s = await _time(samples, listing, [now])
            timeline_s = await _time(samples, store.load_stored, case_ids)
            timeline_sql_s = await _time(samples, timeline_sql, case_ids)
            verify_s = await _time(samples, store.verify, case_ids)
            stalled = await pool.fetch(STALLED_LISTING, now)
            verified = case_ids[:50]
            breaks = [b for b in [await store.verify(case_id) for case_id in verified] if b is not None]
            events_per_timeline = [len(await store.load_stored(case_id)) for case_id in case_ids[:20]]
            plan = "\n".join(row[0] for row in await pool.fetch("EXPLAIN " + STALLED_LISTING.replace("$1", "now()")))
            open_count = await pool.fetchval("SELECT count(*) FROM complaints WHERE status <> 'closed'")
            stalled_count = await pool.fetchval(
                "SELECT count(*) FROM complaints WHERE status <> 'closed' AND sla_due_at < $1", now)
        finally:
            await pool.close()
    reads = {"stalled listing (LIMIT 50)": listing_s, "timeline, parsed (load_stored)": timeline_s,
             "timeline, SQL only": timeline_sql_s, "verify one case (find_chain_break)": verify_s}
    summaries = {name: summary_ms(values) for name, values in reads.items()}
    section.headers = ["read", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    for name, s in summaries.items():
        section.rows.append([name, s["n"], s["p50_ms"], s["p95_ms"], s["p99_ms"], s["max_ms"]])
    section.metrics = {
        "load": loaded, "reads": summaries, "open_cases": open_count, "stalled_cases": stalled_count,
        "listing_rows": len(stalled), "verified": len(verified), "verified_without_break": len(verified) - len(breaks),
        "chain_breaks": [str(b) for b in breaks], "events_per_sampled_timeline": events_per_timeline,
        "listing_plan": plan,
    }
    listing_p95 = summaries["stalled listing (LIMIT 50)"]["p95_ms"] or 0
    timeline_p95 = summaries["timeline, parsed (load_stored)"]["p95_ms"] or 0
    section.target = f"p95 < {TARGET_MS:.0f} ms for the listing and the timeline"
    section.target_met = listing_p95 < TARGET_MS and timeline_p95 < TARGET_MS
    section.notes.append(
        f"loaded {loaded['cases']:,} cases / {loaded['events']:,} events in {loaded['load_seconds']}s "
        f"({loaded['events_per_second']:,} events/s, generation + COPY), VACUUM ANALYZE {loaded['vacuum_seconds']}s, "
        f"database {loaded['database_size']}")
    section.notes.append(f"{open_count:,} open cases, {stalled_count:,} past their deadline; the listing returned "
                         f"{len(stalled)} rows; {len(verified) - len(breaks)}/{len(verified)} sampled cases "
                         "verified with no chain break")
    section.notes.append("listing plan: " + " ".join(plan.split()))
    section.notes.append("one client, reads one after another (latency, not throughput); a warm cache: the "
                         f"first {WARM_UP} of each are not timed")
    return section
