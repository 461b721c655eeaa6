"""The real `python worker.py` on the embedded runtime of a data folder of the test's own.

Everything it starts (Temporal dev server, PostgreSQL, partner sandbox) names the data folder in
its command line or environment, which is how a test finds, and at the end kills, what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from runtime.embedded import free_port
from runtime.ownership import PROC

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def own_data_dir(prefix: str) -> Iterator[Path]:
    """A data folder of the test's own; at the end, whatever still runs of it is killed and it is deleted.

    Not under pytest's tmp_path: every pytest run on the machine resets /tmp/pytest-of-<user> to
    mode 0700, and pgserver runs PostgreSQL as another user when we are root.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"complaints-{prefix}-"))
    try:
        yield folder / "data"
    finally:
        kill_all_of(folder)
        shutil.rmtree(folder, ignore_errors=True)


def worker_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a worker with every service embedded in `data_dir`, on free ports."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("TEMPORAL_ADDRESS", "DATABASE_URL", "PARTNER_URL")}
    env |= {
        "COMPLAINTS_DATA_DIR": str(data_dir),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "PARTNER_PORT": str(free_port()),
        "CODEC_PORT": str(free_port()),
        "API_PORT": "0",  # the API beside the worker, on any free port
    }
    return env | overrides


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
    """Last resort after a failed test: the folder is the test's own, so are its processes."""
    for pid in processes_of(data_dir):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Worker:
    """`python worker.py` with its standard error (its log) in a file: not a terminal."""

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

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def running(self, timeout: float = 120) -> None:
        """Wait for the worker's "worker running" line; fail with the log's end if it exits first."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while "worker running" not in self.log_text():
            assert self.process.poll() is None, f"worker exited: {self.log_text()[-3000:]}"
            assert time.monotonic() < deadline, f"worker not running: {self.log_text()[-3000:]}"
            await asyncio.sleep(0.5)

    async def exit_code(self, timeout: float) -> int:
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, timeout)
