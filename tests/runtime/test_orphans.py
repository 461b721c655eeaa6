"""`./run up` stops exactly what it started, even after a run that was killed with SIGKILL.

The real `python worker.py` runs on a fresh data folder (free ports, embedded Temporal, PostgreSQL and
partner sandbox), is killed with SIGKILL, which leaves its services running, is started again, which
adopts them, and is stopped with SIGTERM: afterwards no process of that data folder may be left.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.embedded import free_port
from runtime.ownership import PROC, ProcessIdentity, ServiceClaims

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "temporal": "start-dev",
    "partner": "sandboxes.partner_carrier",
    "postgres": "postgres",
}


def processes_of(data_dir: Path) -> dict[int, str]:
    """pid -> command line of every process whose command line or environment names the data folder."""
    marker = str(data_dir).encode()
    found: dict[int, str] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if marker in cmdline or marker in environ:
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def kill_all_of(data_dir: Path) -> None:
    """Last resort after a failed test: the folder is this test's own, so are its processes."""
    for pid in processes_of(data_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Worker:
    """`python worker.py` with its log (JSON lines) in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env, self.log_path = env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=self.env,
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            )
        return self

    def events(self) -> list[str]:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [json.loads(line)["event"] for line in lines if line.startswith("{")]

    async def running(self, timeout: float = 120) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while "worker running" not in self.events():
            assert self.process.poll() is None, f"worker exited: {self.log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"worker not running: {self.log_path.read_text()[-3000:]}"
            await asyncio.sleep(0.5)

    async def exit_code(self, timeout: float) -> int:
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, timeout)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / f"orphans-{uuid.uuid4().hex[:8]}"
    yield folder
    kill_all_of(folder)


async def test_a_run_after_a_crash_adopts_the_orphans_and_stops_them(data_dir: Path) -> None:
    env = {name: value for name, value in os.environ.items()
           if name not in ("TEMPORAL_ADDRESS", "DATABASE_URL", "PARTNER_URL")}
    env |= {
        "COMPLAINTS_DATA_DIR": str(data_dir),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "PARTNER_PORT": str(free_port()),
        "LOG_FORMAT": "json",
    }

    crashed = Worker(env, data_dir.parent / "first.log")
    crashed.start()
    await crashed.running()
    assert crashed.process is not None
    crashed.process.kill()
    assert await crashed.exit_code(10) == -signal.SIGKILL

    # Not a vacuous pass: the killed worker's three services are still running.
    left = processes_of(data_dir)
    for service, word in SERVICES.items():
        assert any(word in cmdline for cmdline in left.values()), f"no {service} left running: {left}"

    again = Worker(env, data_dir.parent / "second.log")
    again.start()
    await again.running()
    adopted = [event for event in again.events() if event.startswith("adopting")]
    assert sorted(event.split()[1] for event in adopted) == sorted(SERVICES), adopted
    assert again.process is not None
    again.process.send_signal(signal.SIGTERM)
    assert await again.exit_code(60) == 0

    deadline = time.monotonic() + 10  # PostgreSQL's helpers leave a moment after the postmaster
    while (remaining := processes_of(data_dir)) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not remaining, f"left running: {remaining}"
    assert not list((data_dir / "run").glob("*.json")), "claims of stopped services must be gone"


# --- the claims alone: nothing that is not the recorded process is ever taken for it ------------------


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def _write_claim(claims: ServiceClaims, service: ProcessIdentity, owner: ProcessIdentity) -> None:
    claims.path("temporal").parent.mkdir(parents=True, exist_ok=True)
    claims.path("temporal").write_text(json.dumps({"service": service.to_json(), "owner": owner.to_json()}))


def test_a_service_whose_owner_is_gone_is_an_orphan(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    claims = ServiceClaims(tmp_path)
    service = ProcessIdentity.of(sleeper.pid)
    assert service is not None and service.cmdline == ("sleep", "60")
    gone_owner = subprocess.Popen(["true"])
    gone_owner.wait()
    _write_claim(claims, service, ProcessIdentity(pid=gone_owner.pid, start_ticks=1, cmdline=("python",)))
    assert claims.orphan("temporal") == service


def test_a_service_whose_owner_runs_is_not_an_orphan(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    claims = ServiceClaims(tmp_path)
    assert claims.claim("temporal", sleeper.pid) is not None  # owned by this very test process
    assert claims.orphan("temporal") is None


def test_a_recycled_pid_is_never_taken_for_the_recorded_process(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    claims = ServiceClaims(tmp_path)
    real = ProcessIdentity.of(sleeper.pid)
    assert real is not None
    dead_owner = ProcessIdentity(pid=real.pid, start_ticks=real.start_ticks - 1, cmdline=("python",))
    for impostor in (
        ProcessIdentity(pid=real.pid, start_ticks=real.start_ticks - 1, cmdline=real.cmdline),  # started earlier
        ProcessIdentity(pid=real.pid, start_ticks=real.start_ticks, cmdline=("temporal", "server")),
    ):
        _write_claim(claims, impostor, dead_owner)
        assert claims.orphan("temporal") is None
        assert not claims.path("temporal").exists(), "a claim on a process that is gone is dropped"
    assert sleeper.poll() is None
