"""`./run up` stops exactly what it started, even after a run that was killed with SIGKILL.

The real `python worker.py` runs on a fresh data folder (free ports, embedded Temporal, PostgreSQL and
partner sandbox), is killed with SIGKILL, which leaves its services running, is started again, which
adopts them, and is stopped with SIGTERM: afterwards no process of that data folder may be left.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime import ownership
from runtime.ownership import ProcessIdentity, ServiceClaims
from tests.runtime.worker_process import Worker, own_data_dir, processes_of, worker_env

SERVICES = {
    "temporal": "start-dev",
    "partner": "sandboxes.partner_carrier",
    "postgres": "postgres",
}


def events(worker: Worker) -> list[str]:
    lines = worker.log_text().splitlines()
    return [json.loads(line)["event"] for line in lines if line.startswith("{")]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with own_data_dir("orphans") as folder:
        yield folder


async def test_a_run_after_a_crash_adopts_the_orphans_and_stops_them(data_dir: Path) -> None:
    env = worker_env(data_dir, LOG_FORMAT="json")

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
    adopted = [event for event in events(again) if event.startswith("adopting")]
    assert sorted(event.split()[1] for event in adopted) == sorted(SERVICES), adopted
    assert again.process is not None
    again.process.send_signal(signal.SIGTERM)
    assert await again.exit_code(60) == 0

    for _ in range(50):  # PostgreSQL's helpers may leave a moment after the postmaster
        if not (remaining := processes_of(data_dir)):
            break
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


def test_a_process_just_started_is_seen_with_its_command_line() -> None:
    for _ in range(300):  # the race below shows about once in 500 starts here: 300 make it likely
        process = subprocess.Popen(["sleep", "60"])
        try:
            identity = ProcessIdentity.of(process.pid)
            assert identity is not None and identity.cmdline == ("sleep", "60")
        finally:
            process.kill()
            process.wait()


def test_a_process_in_the_middle_of_exec_is_waited_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Popen returns once exec has closed the child's close-on-exec pipe, which is before the kernel has
    # set up the new program's arguments: for that moment /proc/<pid>/cmdline reads empty (CI saw it).
    # The same moment, made to last 30 ms, in a /proc of our own.
    entry = tmp_path / "4242"
    entry.mkdir()
    (entry / "stat").write_text("4242 (sleep) S" + " 0" * 18 + " 777 0 0\n")  # field 22, start time: 777
    (entry / "cmdline").write_bytes(b"")
    monkeypatch.setattr(ownership, "PROC", tmp_path)
    exec_done = threading.Timer(0.03, lambda: (entry / "cmdline").write_bytes(b"sleep\x0060\x00"))
    exec_done.start()
    try:
        assert ProcessIdentity.of(4242) == ProcessIdentity(pid=4242, start_ticks=777, cmdline=("sleep", "60"))
    finally:
        exec_done.join()


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
