"""Benchmarks of the complaint engine: its cost against bare Temporal and PostgreSQL's limits.

    python -m bench                  quick sizes, every benchmark (about 8 minutes on 2 cores)
    python -m bench --full           the sizes the issue names (tens of minutes)
    python -m bench --only timers    one benchmark (repeat --only for several)

Each run prints a table per benchmark and writes every figure to bench/results/<UTC time>.json.
Benchmarks print figures, never assert on them; each compares against its own baseline in the
same run, since absolute times drift on a shared machine. See bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Section, machine_info, postgres_server, progress
from bench.sizes import SIZES

RESULTS_DIR = Path(__file__).resolve().parent / "results"

Runner = Callable[[dict[str, Any], str, "Path | None"], Awaitable[Section]]


def _runners() -> dict[str, Runner]:
    # Imported here so `--help` does not load every benchmark and the engine.
    from bench import api_latency, event_store_bench, memory, queries, remediation, throughput, timers, what_if

    return {
        "throughput": lambda cfg, url, profile: throughput.run(cfg, url, profile_dir=profile),
        "event_store": lambda cfg, url, profile: event_store_bench.run(cfg, url, profile_dir=profile),
        "queries": lambda cfg, url, profile: queries.run(cfg, url),
        "timers": lambda cfg, url, profile: timers.run(cfg, url),
        "memory": lambda cfg, url, profile: memory.run(cfg, url, profile_dir=profile),
        "remediation": lambda cfg, url, profile: remediation.run(cfg, url),
        "what_if": lambda cfg, url, profile: _now(what_if.run(cfg)),
        "api_latency": lambda cfg, url, profile: api_latency.run(cfg, url),
    }


async def _now(section: Section) -> Section:
    return section


BENCHMARKS = {
    "throughput": "complaints/s closed by the engine vs a bare workflow with the same activities and updates",
    "event_store": "append events/s (batched, one at a time) over 1/10/100 streams, and the read model's lag",
    "queries": "supervisor reads at scale: stalled-case listing, a timeline, verifying a chain",
    "timers": "how late SLA escalations fire when many deadlines land in the same second",
    "memory": "worker RSS per cached open case",
    "remediation": "a batch's remediation campaign: cases opened/s, time to all settled, peak worker RSS",
    "what_if": "SLA what-if: replaying N case histories under another policy (target 100k in under a minute)",
    "api_latency": "p50/p95/p99 of GET one ticket and the list over HTTP vs the same reads in Python",
}


async def run_benchmarks(names: list[str], size: str, server_url: str, *, profile_dir: Path | None = None,
                         overrides: dict[str, dict[str, Any]] | None = None) -> dict[str, Section]:
    """Run the named benchmarks at `size` (smoke, quick or full); a failing one is reported, not fatal."""
    runners = _runners()
    overrides = overrides or {}
    sections: dict[str, Section] = {}
    for name in names:
        progress(f"{name}: starting ({size})")
        started = time.perf_counter()
        try:
            config = {**SIZES[size][name], **overrides.get(name, {})}
            section = await runners[name](config, server_url, profile_dir)
        except Exception as error:  # reported in its section; the other benchmarks still run
            section = Section(name, BENCHMARKS[name], error=f"{type(error).__name__}: {error}")
            traceback.print_exc(file=sys.stderr)
        section.seconds = time.perf_counter() - started
        sections[name] = section
        print(section.render(), flush=True)
        print(flush=True)
    return sections


def write_results(sections: dict[str, Section], *, size: str, argv: list[str], started: datetime,
                  results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{started.strftime('%Y-%m-%dT%H-%M-%SZ')}.json"
    document = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "size": size,
        "command": "python -m bench " + " ".join(argv),
        "machine": machine_info(),
        "benchmarks": {name: section.as_json() for name, section in sections.items()},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="benchmarks:\n" + "\n".join(f"  {name:<12} {what}" for name, what in BENCHMARKS.items())
        + "\n\nPostgreSQL: BENCH_DATABASE_URL (else TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/"
        "test); each benchmark creates a database of its own there and drops it. Temporal: a fresh "
        "`temporal server start-dev` on SQLite per benchmark, in a temporary folder.",
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--full", action="store_true", help="the issue's sizes (1000 cases, 1M cases / 10M events, "
                       "...); takes tens of minutes")
    sizes.add_argument("--smoke", action="store_true", help="tiny sizes that only prove the code runs")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help="run only this benchmark (repeatable): " + ", ".join(BENCHMARKS))
    parser.add_argument("--profile", action="store_true",
                        help="sample the engine worker with py-spy (throughput), cProfile the appends "
                        "(event_store) and trace the workers' allocations per open case (memory); raw profiles "
                        "go next to the results file")
    parser.add_argument("--driver", choices=["readmodel", "query"], default="readmodel",
                        help="how throughput learns a case is waiting for an answer: the PostgreSQL read model "
                        "(default; one query per tick for all cases) or each case's `view` query, as cli/demo.py")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help=f"default {RESULTS_DIR}")
    parser.add_argument("--database-url", help="a PostgreSQL server to create benchmark databases on")
    args = parser.parse_args(argv)

    from runtime.logging import configure_logging

    configure_logging("console", "WARNING")  # on stderr: stdout keeps the tables
    size = "full" if args.full else "smoke" if args.smoke else "quick"
    names = args.only or list(BENCHMARKS)
    started = datetime.now(UTC)
    profile_dir = None
    if args.profile:
        profile_dir = args.results_dir / f"{started.strftime('%Y-%m-%dT%H-%M-%SZ')}-profiles"
        profile_dir.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    print(f"bench: {size} sizes, {', '.join(names)}; machine: {machine['nproc']} cores ({machine['cpu_model']}), "
          f"{machine['memory_gib']} GiB", flush=True)
    print(flush=True)
    with postgres_server(args.database_url) as server_url:
        sections = asyncio.run(run_benchmarks(names, size, server_url, profile_dir=profile_dir,
                                              overrides={"throughput": {"driver": args.driver}}))
    path = write_results(sections, size=size, argv=argv, started=started, results_dir=args.results_dir)
    print(f"results: {path}")
    return 1 if any(section.error for section in sections.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
