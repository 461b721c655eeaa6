"""Real processes the chaos tests start, kill and restart: the Temporal dev server, workers, PostgreSQL.

Each helper starts its process in a session of its own (so a signal reaches only that process),
remembers its pid, and stops only that pid. Nothing here ever touches a process it did not start:
the machine's shared PostgreSQL at 127.0.0.1:5432 is never stopped, only a pgserver cluster in a
temporary folder.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError

from codec.aes_gcm import key_ring_env
from runtime.binaries import DEV_SERVER_TUNING, temporal_cli_path
from runtime.embedded import ensure_search_attributes, free_port
from tests.conftest import TEST_PAYLOAD_KEYS
from workflows.search_attributes import dev_server_flags

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "default"


async def _wait_exit(process: asyncio.subprocess.Process, timeout: float) -> bool:
    try:
        await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        return False
    return True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    return "\n".join(text.splitlines()[-lines:])


# --- the Temporal dev server -----------------------------------------------------------------------


@dataclass
class DevServer:
    """`temporal server start-dev` on a SQLite file, stoppable and restartable on the same file and port."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def db_file(self) -> Path:
        return self.folder / "temporal.db"

    @property
    def log_path(self) -> Path:
        return self.folder / "temporal.log"

    async def start(self, timeout: float = 60.0) -> None:
        """Start the server (resuming from its SQLite file if there is one) and wait until it answers."""
        assert self.process is None or self.process.returncode is not None, "already running"
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                temporal_cli_path(),
                "server",
                "start-dev",
                "--db-filename",
                str(self.db_file),
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--headless",
                "--namespace",
                NAMESPACE,
                "--log-level",
                "warn",
                *DEV_SERVER_TUNING,
                *dev_server_flags(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"temporal dev server exited ({self.process.returncode}):\n{_tail(self.log_path)}"
                )
            try:
                # Each attempt bounded as a whole: these calls carry no deadline of their own, and a server
                # still loading itself may hold one unanswered. Unbounded, a restart in the middle of the soak
                # could wait forever, and the soak with it.
                await asyncio.wait_for(self._answers(), 10)
                return
            except (OSError, RuntimeError, TimeoutError, RPCError) as error:
                # RPCError: answering already, but not ready yet (its namespace still loading, ...).
                last_error = error
            await asyncio.sleep(0.2)
        raise RuntimeError(
            f"temporal dev server not ready after {timeout:.0f}s ({last_error}):\n{_tail(self.log_path)}"
        )

    async def _answers(self) -> None:
        """Connect, see the namespace, and have the workflows' search attributes registered."""
        client = await Client.connect(self.address, namespace=NAMESPACE)
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=NAMESPACE))
        # Registered by the flags on a fresh file; checked (and completed) on a resumed one.
        await ensure_search_attributes(client, NAMESPACE)

    async def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop the server by signal: SIGKILL is a crash, SIGTERM an orderly stop."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, sig)
        if not await _wait_exit(process, 15):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()

    async def restart(self, sig: signal.Signals = signal.SIGKILL, down_for: float = 0.0) -> None:
        await self.stop(sig)
        await asyncio.sleep(down_for)
        await self.start()


# --- worker processes ------------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    """`python worker.py` against external services, its log (JSON lines) in a file."""

    env: dict[str, str]
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 60.0) -> WorkerProcess:
        assert self.process is None or self.process.returncode is not None, "already running"
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log_file:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "worker.py",
                cwd=str(PROJECT_ROOT),
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"worker exited ({self.process.returncode}):\n{_tail(self.log_path)}")
            with self.log_path.open("rb") as log_file:
                log_file.seek(offset)
                if b"worker running" in log_file.read():
                    return self
            await asyncio.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout:.0f}s:\n{_tail(self.log_path)}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, in-flight activities and workflow tasks simply vanish."""
        assert self.process is not None and self.process.returncode is None, "not running"
        os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        assert self.process.returncode == -signal.SIGKILL

    async def stop(self) -> None:
        """An orderly stop (SIGTERM, then SIGKILL after a grace period); a no-op if it is not running."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        if not await _wait_exit(process, 10):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def worker_env(
    *,
    temporal_address: str,
    database_url: str,
    partner_url: str,
    task_queue: str,
    data_dir: Path,
    token_key: str,
    log_level: str = "INFO",
) -> dict[str, str]:
    """The environment of a worker process pointed at external services (nothing embedded)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
    }
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONUNBUFFERED": "1",
            "TEMPORAL_ADDRESS": temporal_address,
            "DATABASE_URL": database_url,
            "PARTNER_URL": partner_url,
            "COMPLAINTS_TASK_QUEUE": task_queue,
            "COMPLAINTS_DATA_DIR": str(data_dir),
            "MSISDN_TOKEN_KEY": token_key,
            "API_PORT": "0",  # several workers at once: each serves its API on a free port
            # The test process reads the events these workers seal: one master key for both.
            "PII_MASTER_KEY": os.environ["PII_MASTER_KEY"],
            "LOG_FORMAT": "json",
            "LOG_LEVEL": log_level,
        }
    )
    env.update(key_ring_env(TEST_PAYLOAD_KEYS))  # the payload keys of the test's clients
    return env


# --- an embedded PostgreSQL that may be stopped ----------------------------------------------------


class EmbeddedPostgres:
    """A pgserver cluster in a folder of its own, stoppable and restartable by the test.

    pgserver starts it the first time (initdb, a unix socket, a system user when run as root);
    restarts use the same pg_ctl and the same socket, so clients reconnect to the same URL.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pgdata = folder / "pgdata"
        self._server: object | None = None
        self.uri = ""
        self.restarts = 0

    def start(self) -> str:
        """Create and start the cluster; the URI of its `postgres` database. Blocking: call in a thread."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pgserver.postgres_server import PostgresServer, get_server

        self.folder.mkdir(parents=True, exist_ok=True)
        server = get_server(self.pgdata, cleanup_mode=None)
        assert isinstance(server, PostgresServer)
        self._server = server
        self.uri = server.get_uri()
        return self.uri

    def _pg_ctl(self, args: list[str]) -> None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

        pg_ctl(args, pgdata=self.pgdata, user=getattr(self._server, "system_user", None), timeout=60)

    @property
    def socket_dir(self) -> str:
        return parse_qs(urlsplit(self.uri).query)["host"][0]

    def stop(self, mode: str = "immediate") -> None:
        """Stop the cluster: `immediate` is a crash (recovery on the next start), `fast` an orderly stop."""
        self._pg_ctl(["-w", "-m", mode, "stop"])

    def start_again(self) -> None:
        """Start the stopped cluster on the same data and socket (crash recovery runs first if needed)."""
        self._pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.pgdata / "log"), "start"]
        )
        self.restarts += 1

    def close(self) -> None:
        """Stop it for good, forget pgserver's handle on it and delete its folder."""
        with contextlib.suppress(Exception):
            self.stop("fast")
        server = self._server
        if server is not None:
            # Forget pgserver's handle, and its exit hook, which would look for the handle again.
            atexit.unregister(server._cleanup)  # type: ignore[attr-defined]
            type(server)._instances.pop(server.pgdata, None)  # type: ignore[attr-defined]
        shutil.rmtree(self.folder, ignore_errors=True)
