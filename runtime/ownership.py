"""Which run owns which service process of a data folder, so that a run after a crash can adopt them.

The embedded runtime starts the Temporal dev server, the partner sandbox and PostgreSQL in sessions
of their own, so they outlive a worker that is killed with SIGKILL. Each service it starts (or adopts)
is recorded in `<data_dir>/run/<service>.json`: the service process and the run that owns it, each
as pid, start time and command line. A later run of the same data folder finds a service whose owner
is gone and adopts it: it uses it, and stops it on exit.

A pid alone is not enough: after a reboot or enough process churn the pid may belong to something
else. A process is taken to be the recorded one only if the pid, its start time (in clock ticks after
boot, from /proc/<pid>/stat) and its command line all match, so nothing else is ever signalled.
Without /proc (not Linux) nothing can be verified, so nothing is adopted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("runtime")

PROC = Path("/proc")
EXEC_SETTLE_READS = 50
EXEC_SETTLE_PAUSE = 0.002  # seconds: 50 reads wait at most 0.1 s for an exec to finish


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as it was seen: a pid is reused, the pid with its start time and command line is not."""

    pid: int
    start_ticks: int
    cmdline: tuple[str, ...]

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The running process `pid`, or None when there is none (or it cannot be read, or is a zombie)."""
        for _ in range(EXEC_SETTLE_READS):
            try:
                stat = (PROC / str(pid) / "stat").read_text()
                raw_cmdline = (PROC / str(pid) / "cmdline").read_bytes()
            except (OSError, ValueError):
                return None
            # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
            fields = stat[stat.rfind(")") + 2 :].split()
            state, start_ticks = fields[0], int(fields[19])  # fields 3 and 22 of proc(5)
            if state in ("Z", "X"):
                return None
            if raw_cmdline:
                break
            # A process in the middle of exec has closed its close-on-exec descriptors (so Popen has
            # returned) before the kernel has set up its new arguments: its cmdline reads empty for a moment.
            time.sleep(EXEC_SETTLE_PAUSE)
        else:
            return None
        cmdline = tuple(part.decode(errors="replace") for part in raw_cmdline.rstrip(b"\0").split(b"\0"))
        return cls(pid=pid, start_ticks=start_ticks, cmdline=cmdline)

    def is_running(self) -> bool:
        """True when this very process still runs: same pid, same start time, same command line."""
        return ProcessIdentity.of(self.pid) == self

    def to_json(self) -> dict[str, Any]:
        """The identity as stored in its claim file."""
        return {"pid": self.pid, "start_ticks": self.start_ticks, "cmdline": list(self.cmdline)}

    @classmethod
    def from_json(cls, data: Any) -> ProcessIdentity:
        """An identity read back from its claim file."""
        return cls(pid=int(data["pid"]), start_ticks=int(data["start_ticks"]), cmdline=tuple(data["cmdline"]))


class ServiceClaims:
    """The `<data_dir>/run/<service>.json` files: which process serves, which run owns it."""

    def __init__(self, data_dir: Path) -> None:
        self._folder = data_dir / "run"

    def path(self, service: str) -> Path:
        """The claim file of `service`."""
        return self._folder / f"{service}.json"

    def claim(self, service: str, pid: int) -> ProcessIdentity | None:
        """Record that this process owns the service running as `pid`; its identity, None if it is gone."""
        process = ProcessIdentity.of(pid)
        me = ProcessIdentity.of(os.getpid())
        if process is None or me is None:
            return None
        self._folder.mkdir(parents=True, exist_ok=True)
        staged = self.path(service).with_suffix(".tmp")
        staged.write_text(json.dumps({"service": process.to_json(), "owner": me.to_json()}) + "\n")
        staged.replace(self.path(service))  # never a half-written claim
        return process

    def release(self, service: str, process: ProcessIdentity) -> None:
        """Forget the claim on `process` (once it is stopped); a newer claim on another process stays."""
        recorded = self._read(service)
        if recorded is not None and recorded[0] == process:
            with contextlib.suppress(FileNotFoundError):
                self.path(service).unlink()

    def orphan(self, service: str) -> ProcessIdentity | None:
        """The service's process if it still runs and the run that owned it does not; else None.

        A claim on a process that is gone is removed. A process whose owner still runs (another run
        of the same data folder, or this very process) is not an orphan: it is only attached to.
        """
        recorded = self._read(service)
        if recorded is None:
            return None
        process, owner = recorded
        if not process.is_running():
            with contextlib.suppress(FileNotFoundError):
                self.path(service).unlink()
            return None
        if owner.is_running():
            return None
        return process

    def _read(self, service: str) -> tuple[ProcessIdentity, ProcessIdentity] | None:
        try:
            data = json.loads(self.path(service).read_text())
            return ProcessIdentity.from_json(data["service"]), ProcessIdentity.from_json(data["owner"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("unreadable service claim ignored", path=str(self.path(service)))
            return None


def stop_process(process: ProcessIdentity, sig: signal.Signals, grace: float) -> bool:
    """Send `sig` to the process if it is still the one recorded; SIGKILL it after `grace` seconds.

    Blocking (it polls): call it in a thread. Returns False when it was already gone.
    """
    if not process.is_running():
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not process.is_running():
            return True
        time.sleep(0.1)
    if process.is_running():
        log.warning("process ignored the stop signal, killing it", pid=process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    return True
