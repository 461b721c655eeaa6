"""Event store appends: events per second through PostgresEventStore.append, batched and one at a
time, over 1, 10 and 100 streams written at once, and how long until the read model shows them.

The read model (`complaints`) is updated in the same transaction as the events, so an append is
visible as soon as it commits; a reader in another process polls the projection to show it.
"""

from __future__ import annotations

import asyncio
import bisect
import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import asyncpg

from bench.common import PROJECT_ROOT, Section, fresh_database, progress, summary_ms
from domain import events as ev
from domain.actors import ENGINE, Actor, ActorChannel, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.policy import DEFAULT_WARN_PERCENT
from store.db import connect_pool
from store.event_store import PostgresEventStore
from stories.forwarding_cancel import FORWARDING_CUSTOMER

AGENT = Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
READER_POLL_SECONDS = 0.002
POOL_SIZE = 20


def stream_events(complaint_id: str, count: int, start: datetime) -> list[ev.Event]:
    """`count` consecutive events of one case, like a forwarding case's: filed, clocks, then evidence,
    partner requests, billing actions and notes, repeating (the state stays the same size)."""
    at = [start + timedelta(seconds=n) for n in range(count + 1)]
    head: list[ev.Event] = [
        ev.ComplaintFiled(complaint_id=complaint_id, seq=1, at=at[1], actor=AGENT,
                          category=Category.FORWARDING_CANCEL, priority=Priority.NORMAL,
                          channel=IntakeChannel.STORE, msisdn=FORWARDING_CUSTOMER.msisdn,
                          customer_name=FORWARDING_CUSTOMER.name, id_number=FORWARDING_CUSTOMER.id_number,
                          partner_msisdn=FORWARDING_CUSTOMER.partner_msisdn, partner_carrier="china_unicom",
                          description="刚从联通转网, 办了改号通知; 电话打不进来, 要求半小时内解决"),
        ev.SlaClockStarted(complaint_id=complaint_id, seq=2, at=at[2], actor=ENGINE, clock="acknowledge",
                           budget_seconds=300, warn_percent=DEFAULT_WARN_PERCENT),
        ev.SlaClockStarted(complaint_id=complaint_id, seq=3, at=at[3], actor=ENGINE, clock="resolve",
                           budget_seconds=1800, warn_percent=DEFAULT_WARN_PERCENT),
        ev.ComplaintAcknowledged(complaint_id=complaint_id, seq=4, at=at[4], actor=ENGINE, assignee="agent-li",
                                 message="We will get your calls reaching you again within 30 minutes."),
        ev.SlaClockStopped(complaint_id=complaint_id, seq=5, at=at[5], actor=ENGINE, clock="acknowledge"),
    ]
    events = head[:count]
    for seq in range(len(events) + 1, count + 1):
        key = f"{complaint_id}:r0:step-{seq}"
        common: dict[str, Any] = {"complaint_id": complaint_id, "seq": seq, "at": at[seq], "actor": ENGINE}
        match seq % 5:
            case 0:
                events.append(ev.EvidenceRecorded(**common, step=f"step-{seq % 4}", summary="billing system read",
                                                  facts={"balance_fen": 1250, "status": "active", "seq": seq}))
            case 1:
                events.append(ev.PartnerRequestSent(**common, partner="china_unicom", action="cancel_forwarding",
                                                    request_key=key))
            case 2:
                events.append(ev.PartnerRequestConfirmed(**common, partner="china_unicom", action="cancel_forwarding",
                                                         request_key=key, effective=True,
                                                         result={"status": "cancelled"}))
            case 3:
                events.append(ev.BillingActionApplied(**common, action="cancel_number_change_notice",
                                                      idempotency_key=key, effective=True, details={"notice": 1}))
            case _:
                events.append(ev.NoteAdded(**{**common, "actor": AGENT}, text="客户来电催促, 已告知正在处理"))
    return events


# --- the reader that watches the projection, in a process of its own -----------------------------------


class ProjectionReader:
    """`python -m bench.projection_reader` as a subprocess: what it saw, and when."""

    def __init__(self, database_url: str, ids: list[str]) -> None:
        self._args = [database_url, str(READER_POLL_SECONDS)]
        self._ids = ids
        self._process: asyncio.subprocess.Process | None = None
        self.visible: list[tuple[str, int, float]] = []

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.projection_reader", *self._args, cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(self._ids).encode() + b"\n")
        await self._process.stdin.drain()
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError("the projection reader did not start")
        return self

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        assert process is not None and process.stdin is not None
        process.stdin.write(b"stop\n")
        await process.stdin.drain()
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        self.visible = [(c, s, t) for c, s, t in json.loads(out or b"[]")]


@dataclass
class Append:
    complaint_id: str
    last_seq: int
    called: float  # time.monotonic(), comparable across processes on one machine
    returned: float


async def _write(store: PostgresEventStore, streams: list[list[ev.Event]], batch: int) -> list[Append]:
    appends: list[Append] = []

    async def writer(events: list[ev.Event]) -> None:
        for i in range(0, len(events), batch):
            chunk = events[i:i + batch]
            called = time.monotonic()
            result = await store.append(chunk[0].complaint_id, chunk)
            appends.append(Append(chunk[0].complaint_id, result.last_seq, called, time.monotonic()))

    await asyncio.gather(*(writer(events) for events in streams))
    return appends


def _lags(appends: list[Append], visible: list[tuple[str, int, float]]) -> tuple[list[float], int]:
    """Seconds from each append's call to the reader first seeing its events; and how many it never saw."""
    by_case: dict[str, tuple[list[int], list[float]]] = {}
    for complaint_id, seq, seen_at in visible:
        seqs, times = by_case.setdefault(complaint_id, ([], []))
        seqs.append(seq)
        times.append(seen_at)
    lags: list[float] = []
    missing = 0
    for append in appends:
        seqs, times = by_case.get(append.complaint_id, ([], []))
        i = bisect.bisect_left(seqs, append.last_seq)
        if i == len(seqs):
            missing += 1
        else:
            lags.append(max(0.0, times[i] - append.called))
    return lags, missing


async def _one_config(database_url: str, pool: asyncpg.Pool, mode: str, streams: int, events_per_stream: int,
                      batch: int, profile_to: Path | None) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:6]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    data = [stream_events(f"ES-{run_id}-{mode[0]}{streams}-{n:03d}", events_per_stream, start)
            for n in range(streams)]
    ids = [events[0].complaint_id for events in data]
    store = PostgresEventStore(pool)
    profiler = cProfile.Profile() if profile_to else None
    async with ProjectionReader(database_url, ids) as reader:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        appends = await _write(store, data, batch)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    visible = reader.visible
    events = sum(len(events) for events in data)
    lags, unseen = _lags(appends, visible)
    result: dict[str, Any] = {
        "mode": mode, "streams": streams, "batch": batch, "events": events, "appends": len(appends),
        "seconds": round(seconds, 3), "events_per_second": round(events / seconds, 1),
        "appends_per_second": round(len(appends) / seconds, 1),
        "append_latency": summary_ms([a.returned - a.called for a in appends]),
        "projection_lag": summary_ms(lags), "appends_never_seen_by_reader": unseen,
    }
    if profiler and profile_to:
        profiler.dump_stats(profile_to)
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime")
        total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
        top = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:12]  # type: ignore[attr-defined]
        result["profile_self_percent"] = [
            [f"{func[2]} ({Path(func[0]).name}:{func[1]})", round(100 * entry[2] / total, 1)] for func, entry in top
        ]
    return result


async def run(cfg: dict[str, Any], server_url: str, *, profile_dir: Path | None = None) -> Section:
    section = Section("event_store", "Event store: append throughput and projection lag")
    section.params = {**cfg, "pool_size": POOL_SIZE, "reader_poll_ms": READER_POLL_SECONDS * 1000}
    results: list[dict[str, Any]] = []
    profiles: list[dict[str, Any]] = []
    async with fresh_database(server_url, "bench_es") as database_url:
        pool = await connect_pool(database_url, max_size=POOL_SIZE)
        try:
            for mode, total, batch in (("batched", cfg["batched_events"], cfg["batch"]),
                                       ("one at a time", cfg["single_events"], 1)):
                for streams in cfg["streams"]:
                    per_stream = max(5, total // streams)
                    progress(f"event_store: {mode}, {streams} stream(s), {per_stream * streams} events")
                    results.append(await _one_config(database_url, pool, mode, streams, per_stream,
                                                     min(batch, per_stream), None))
                if profile_dir:
                    # A run of its own: cProfile slows what it watches, so the measured runs go without.
                    progress(f"event_store: {mode}, 1 stream, under cProfile")
                    profiled = await _one_config(database_url, pool, mode, 1, total, min(batch, total),
                                                 profile_dir / f"event-store-{mode.replace(' ', '-')}.prof")
                    profiles.append(profiled)
        finally:
            await pool.close()
    section.headers = ["mode", "streams", "batch", "events", "events/s", "appends/s", "append p50 ms",
                       "append p95 ms", "lag p50 ms", "lag p95 ms", "lag max ms"]
    for r in results:
        section.rows.append([r["mode"], r["streams"], r["batch"], r["events"], r["events_per_second"],
                             r["appends_per_second"], r["append_latency"]["p50_ms"], r["append_latency"]["p95_ms"],
                             r["projection_lag"]["p50_ms"], r["projection_lag"]["p95_ms"],
                             r["projection_lag"]["max_ms"]])
    best = max((r["events_per_second"] for r in results if r["mode"] == "batched"), default=0.0)
    section.metrics = {"configs": results, "best_batched_events_per_second": best}
    if profiles:
        section.metrics["profiles_one_stream"] = {p["mode"]: p["profile_self_percent"] for p in profiles}
    section.target = "20,000 events/s or more, batched"
    section.target_met = best >= 20_000
    section.notes.append(
        "lag = from the append call to a reader in another process first seeing the new last_seq in the "
        f"read model (polled every {READER_POLL_SECONDS * 1000:.0f} ms). The projection is written in the "
        "append's own transaction, so there is no lag beyond the append itself: the row is readable the moment "
        "it commits, which under load is before the writer's busy event loop even resumes the caller (hence "
        "lag below append latency)")
    section.notes.append(
        "batched = batches of {batch} events per append; one at a time = 1 event per append; streams = cases "
        "appended to at once, one writer each, sharing a pool of {pool} connections".format(
            batch=cfg["batch"], pool=POOL_SIZE))
    for r in profiles:
        top = ", ".join(f"{name} {share}%" for name, share in r["profile_self_percent"][:6])
        section.notes.append(f"cProfile (self time), {r['mode']}, 1 stream: {top}")
    return section
