"""The benchmarks at their smallest sizes: every one runs end to end and reports what it measured.

Asserts on structure and counts only, never on timings: speed is the benchmarks' output, not a test.
So the benchmarks run side by side here (three at a time, longest first): most of their time is spent
starting dev servers and worker processes and waiting on them, not computing, and each has a database,
a dev server and workers of its own. `./run bench` still runs them one after another, for its figures.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import BENCHMARKS, run_benchmarks, write_results
from bench.common import Section
from bench.sizes import SIZES

SIDE_BY_SIDE = 3
# Longest first (seconds each took alone at smoke size), so the short ones fill in beside the long ones.
LONGEST_FIRST = ["throughput", "memory", "api_latency", "remediation", "timers", "event_store", "queries", "what_if"]


async def run_side_by_side(server_url: str, profiles: Path) -> dict[str, Section]:
    """Every benchmark at smoke size, SIDE_BY_SIDE at a time; the sections in BENCHMARKS' order.

    The memory benchmark runs with its profile (into `profiles`), as `--profile` runs it.
    """
    gate = asyncio.Semaphore(SIDE_BY_SIDE)

    async def one(name: str) -> dict[str, Section]:
        async with gate:
            return await run_benchmarks([name], "smoke", server_url,
                                        profile_dir=profiles if name == "memory" else None)

    order = LONGEST_FIRST + [name for name in BENCHMARKS if name not in LONGEST_FIRST]
    done: dict[str, Section] = {}
    for sections in await asyncio.gather(*(one(name) for name in order)):
        done.update(sections)
    return {name: done[name] for name in BENCHMARKS}


async def test_every_benchmark_runs_at_smoke_size_and_reports_its_figures(server_url: str, tmp_path: Path) -> None:
    sizes = SIZES["smoke"]
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    sections = await run_side_by_side(server_url, profiles)

    assert {name: section.error for name, section in sections.items()} == dict.fromkeys(BENCHMARKS)

    throughput = sections["throughput"].metrics
    assert "forwarding_cancel" in sections["throughput"].params["mix"]
    engine = throughput["engine"]
    assert engine["cases"] == sizes["throughput"]["cases"]
    assert engine["unfinished"] == 0
    finished = engine["closed"] + engine["failed"]
    # The plain and both bare sides replay exactly the engine cases that finished, and all of theirs close.
    for side in ("plain", "bare", "bare+footprint"):
        assert throughput[side]["cases"] == throughput[side]["closed"] == finished
    per_case = throughput["per_engine_case"]
    assert per_case["activity"] >= 5 and per_case["update"] >= 1
    assert throughput["ratio_engine_to_plain"] > 0 and throughput["ratio_engine_to_bare"] > 0
    # Plain does the business work without the event store: fewer history events than bare.
    assert throughput["plain"]["history_events_per_case"] < throughput["bare"]["history_events_per_case"]

    store = sections["event_store"].metrics["configs"]
    streams = sizes["event_store"]["streams"]
    assert [(c["mode"], c["streams"]) for c in store] == [
        (mode, n) for mode in ("batched", "one at a time") for n in streams
    ]
    for config in store:
        assert config["appends"] * config["batch"] >= config["events"] > 0
        # Every append was seen in the read model by the other process: the projection kept up.
        assert config["appends_never_seen_by_reader"] == 0
        assert config["projection_lag"]["n"] == config["appends"]

    queries = sections["queries"].metrics
    assert queries["load"]["cases"] == sizes["queries"]["cases"]
    assert queries["load"]["events"] == sizes["queries"]["events"]
    assert queries["verified"] > 0 and queries["verified_without_break"] == queries["verified"]
    assert 0 < queries["stalled_cases"] < queries["open_cases"]
    assert queries["listing_rows"] == min(50, queries["stalled_cases"])
    assert all(read["n"] == sizes["queries"]["samples"] for read in queries["reads"].values())

    what_if = sections["what_if"]
    assert sum(row[1] for row in what_if.rows) == sizes["what_if"]["cases"]
    assert what_if.metrics["flips"] > 0  # store hours move deadlines that wall time breached

    (timers,) = sections["timers"].metrics["sizes"]
    assert timers["cases"] == timers["escalated"] == sizes["timers"]["cases"][0]
    assert timers["errors"] == 0 and timers["started_late"] == 0
    assert timers["fired_late"]["n"] == timers["stored_late"]["n"] == timers["notified_late"]["n"] == timers["cases"]
    assert timers["fired_late"]["p50_ms"] >= 0  # an escalation never fires before its deadline
    bare_timers = timers["bare"]
    assert bare_timers["cases"] == bare_timers["fired"] == timers["cases"] and bare_timers["errors"] == 0
    assert bare_timers["fired_late"]["n"] == timers["cases"] and bare_timers["fired_late"]["p50_ms"] >= 0
    assert timers["fired_p99_ratio_to_bare"] is not None

    memory = sections["memory"].metrics
    for worker in ("engine", "bare"):
        assert [p["cases"] for p in memory[worker]["points"]] == [0, 3, 6]
        assert all(p["rss_bytes"] > 10 * 2**20 for p in memory[worker]["points"])
        # --profile: a snapshot at each reading, and a note naming where each open case's memory went.
        assert sorted(path.name for path in profiles.glob(f"memory-{worker}-*.snap")) == [
            f"memory-{worker}-{n}.snap" for n in range(3)
        ]
        (note,) = [note for note in sections["memory"].notes if note.startswith(f"profile, {worker}: traced growth")]
        assert note.count(" KiB per case by file: ") == 1

    remediation = sections["remediation"].metrics
    # A batch of 20 of the seed's kind: 16 harmed, each opened once, in one campaign run.
    assert remediation["numbers"] == sizes["remediation"]["numbers"] == 20
    assert remediation["opened"] == remediation["harmed"] == 16 and remediation["already_open"] == 0
    assert remediation["worker_rss_peak_bytes"] >= remediation["worker_rss_start_bytes"] > 10 * 2**20
    api = sections["api_latency"].metrics
    assert all(read["n"] == sizes["api_latency"]["samples"] for read in api["reads"].values())
    assert api["example_status_changes"] >= 1  # the HTTP ticket carries its status history from the events
    assert set(api["added_p95_ms"]) == {"one", "list"}
    for side in ("http", "client"):  # every filing answered (a refused POST fails the benchmark)
        rate = api["filings"][side]
        assert rate["filings"] == rate["latency"]["n"] == sizes["api_latency"]["filings"]

    path = write_results(sections, size="smoke", argv=["--smoke"], started=datetime.now(UTC), results_dir=tmp_path)
    document = json.loads(path.read_text())
    assert document["machine"]["nproc"] >= 1
    assert set(document["benchmarks"]) == set(BENCHMARKS)
    assert all(section["table"]["rows"] for section in document["benchmarks"].values())

