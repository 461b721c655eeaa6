"""What every benchmark shares: its result shape, percentiles, CPU and memory meters, a fresh
PostgreSQL database. The Temporal dev server and worker processes are in bench/processes.py.

Benchmarks print figures; they never assert on timings. Each one runs its own comparison in the
same run, because absolute times drift on a shared machine.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from auth.embedded import EmbeddedIssuer
from runtime.local_postgres import reachable_postgres

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


@dataclass
class Section:
    """One benchmark's outcome: parameters, figures for machines, a table for people, notes."""

    name: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the issue asks for, and whether this run met it (None: not measurable in this run).
    target: str = ""
    target_met: bool | None = None
    seconds: float = 0.0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "params": self.params,
            "metrics": self.metrics,
            "table": {"headers": self.headers, "rows": self.rows},
            "notes": self.notes,
            "target": self.target,
            "target_met": self.target_met,
            "seconds": round(self.seconds, 2),
            "error": self.error,
        }

    def render(self) -> str:
        lines = [f"== {self.title} ({self.seconds:.0f}s) =="]
        if self.error:
            lines.append(f"  FAILED: {self.error}")
        if self.headers:
            lines.extend("  " + line for line in render_table(self.headers, self.rows))
        if self.target:
            verdict = {True: "met", False: "NOT met", None: "n/a"}[self.target_met]
            lines.append(f"  target: {self.target} -> {verdict}")
        lines.extend(f"  - {note}" for note in self.notes)
        return "\n".join(lines)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    for row in cells:
        out.append("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return out


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").replace("x", "").isdigit()


# --- statistics ------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "n": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p95_ms": ms(percentile(seconds, 95)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds) if seconds else None),
        "mean_ms": ms(statistics.fmean(seconds) if seconds else None),
    }


# --- processes: CPU and memory ----------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    # After the command name: state is field 3, utime 14 and stime 15 (1-based, see proc(5)).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int:
    """A process's resident set size (VmRSS) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def find_pid(cmdline_part: str) -> int | None:
    """The first process whose command line contains `cmdline_part` (a unique path, e.g. a temp file)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline_part in cmdline and int(entry.name) != os.getpid():
            return int(entry.name)
    return None


PidSource = Callable[[], Awaitable[list[int]]]


class CpuMeter:
    """CPU seconds used by named groups of processes between start() and stop().

    Each group's pids are looked up at both ends (PostgreSQL opens a process per new connection),
    and a process that appeared in between counts from zero.
    """

    def __init__(self, sources: dict[str, PidSource]) -> None:
        self._sources = sources
        self._start: dict[int, float] = {}
        self._driver_start = 0.0
        self.used: dict[str, float] = {}

    async def start(self) -> None:
        for source in self._sources.values():
            for pid in await source():
                self._start[pid] = cpu_seconds(pid)
        times = os.times()
        self._driver_start = times.user + times.system

    async def stop(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for name, source in self._sources.items():
            pids = set(await source())
            used[name] = round(sum(cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in pids), 2)
        times = os.times()
        used["driver"] = round(times.user + times.system - self._driver_start, 2)
        self.used = used
        return used


def fixed(*pids: int | None) -> PidSource:
    """A pid source for processes known up front."""

    async def source() -> list[int]:
        return [pid for pid in pids if pid is not None]

    return source


async def outcome(awaitable: Awaitable[T]) -> T | Exception:
    """The awaitable's result, or the exception it raised: one case's failure is a figure, not a crash."""
    try:
        return await awaitable
    except Exception as error:  # the caller counts and reports it
        return error


async def postgres_backend_pids(pool: asyncpg.Pool, database: str) -> list[int]:
    """Server processes serving `database` right now (PostgreSQL runs one per connection)."""
    rows = await pool.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    return [row["pid"] for row in rows]


# --- machine -----------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import platform

    import temporalio

    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_total = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    return {
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_total / 2**30, 1),
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "platform": platform.platform(),
    }


# --- PostgreSQL ------------------------------------------------------------------------------------


def with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{database}" + (f"?{query}" if query else "")


def database_name(url: str) -> str:
    return url.partition("?")[0].rsplit("/", 1)[1]


@contextlib.contextmanager
def postgres_server(url: str | None) -> Any:
    """A PostgreSQL server URL the benchmarks may create databases on.

    BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the machine's server at 127.0.0.1:5432); if
    nothing answers there, an embedded pgserver in a temporary folder stands in.
    """
    url = url or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER_URL
    with reachable_postgres(url, "bench-pg-") as server_url:
        yield server_url


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database for one benchmark, dropped at the end whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def progress(message: str) -> None:
    """A progress line on stderr, so stdout keeps only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_issuer() -> EmbeddedIssuer:
    """The benchmarks' embedded issuer (a key and the demo's directory in a temp folder of this user), shared
    by the driver, which logs the stories' people in, and the worker subprocesses, which trust its keys."""
    return EmbeddedIssuer.open(Path(tempfile.gettempdir()) / f"complaints-bench-auth-{os.getuid()}")
