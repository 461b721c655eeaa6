"""The benchmarks' processes: a fresh Temporal dev server, and workers in subprocesses of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from temporalio.testing import WorkflowEnvironment

from bench.common import PROJECT_ROOT, find_pid, rss_bytes
from codec.aes_gcm import KeyRing, encrypted_data_converter, key_ring_env
from runtime.binaries import DEV_SERVER_TUNING, temporal_cli_path
from workflows import search_attributes

# One payload key ring per benchmark run, shared with its worker processes through PAYLOAD_KEYS: the engine
# and the bare baseline both pay for encryption, as every deployment does.
BENCH_KEYS = KeyRing.generate("bench")
# One dev server starts at a time: the start moves this process's stdout aside (_stdout_to_stderr), and two
# starts interleaved would put it back in the wrong order (the smoke test runs benchmarks side by side).
_STARTING = asyncio.Lock()

@dataclass
class DevServer:
    env: WorkflowEnvironment
    pid: int | None
    folder: Path

    @property
    def address(self) -> str:
        return self.env.client.service_client.config.target_host


@contextlib.asynccontextmanager
async def dev_server() -> AsyncIterator[DevServer]:
    """A fresh `temporal server start-dev` on SQLite (WAL) in a temporary folder, removed after."""
    folder = Path(tempfile.mkdtemp(prefix="bench-temporal-"))
    db_file = folder / "temporal.db"
    try:
        async with _STARTING:
            with _stdout_to_stderr():  # the server prints a banner on the stdout it inherits
                env = await _start_local(db_file)
        try:
            yield DevServer(env=env, pid=find_pid(str(db_file)), folder=folder)
        finally:
            await env.shutdown()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _stdout_to_stderr() -> Any:
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


async def _start_local(db_file: Path) -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        data_converter=encrypted_data_converter(BENCH_KEYS),
        dev_server_existing_path=temporal_cli_path(),
        dev_server_database_filename=str(db_file),
        dev_server_extra_args=list(DEV_SERVER_TUNING),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )


class WorkerProcess:
    """A worker in a subprocess of its own (`python -m bench.worker_proc`), so its CPU and RSS are
    its own and the driver's work never stalls its event loop."""

    def __init__(self, kind: str, *, address: str, task_queue: str, database_url: str | None = None,
                 partner_url: str | None = None, max_cached_workflows: int | None = None,
                 trace_memory: Path | None = None) -> None:
        self.kind = kind
        self.task_queue = task_queue
        self._args = ["--kind", kind, "--address", address, "--task-queue", task_queue]
        if database_url:
            self._args += ["--database-url", database_url]
        if partner_url:
            self._args += ["--partner-url", partner_url]
        if max_cached_workflows:
            self._args += ["--max-cached-workflows", str(max_cached_workflows)]
        self._trace_prefix = trace_memory
        self._snapshots = 0
        if trace_memory:
            self._args += ["--trace-memory", str(trace_memory)]
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None
        # Lives as long as the worker does; closed and removed in __aexit__.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"bench-worker-{kind}-", suffix=".log", delete=False
        )

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def rss(self) -> int:
        return rss_bytes(self.pid)

    @property
    def traces_memory(self) -> bool:
        """Whether the worker was started with `trace_memory`."""
        return self._trace_prefix is not None

    async def memory_snapshot(self) -> Path:
        """Have a worker started with `trace_memory` write its allocations now; the snapshot's file."""
        assert self._trace_prefix is not None, "the worker does not trace memory"
        path = Path(f"{self._trace_prefix}-{self._snapshots}.snap")
        self._snapshots += 1
        os.kill(self.pid, signal.SIGUSR1)
        for _ in range(600):
            if await asyncio.to_thread(path.exists):
                return path
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the {self.kind} worker wrote no memory snapshot in 60 s")

    def log_tail(self, lines: int = 20) -> str:
        text = Path(self._log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    async def __aenter__(self) -> Self:
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            **key_ring_env(BENCH_KEYS),
        }
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.worker_proc", *self._args,
            cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=self._log,
        )
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout=90)
        except TimeoutError:
            line = b""
        if line.strip() != b"READY":
            await self.__aexit__(None, None, None)
            raise RuntimeError(f"the {self.kind} worker did not start:\n{self.log_tail()}")
        # The worker logs to stdout too: keep draining it, or a full pipe would freeze the worker.
        self._drain = asyncio.create_task(self._drain_stdout())
        return self

    async def _drain_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while chunk := await self._process.stdout.read(65536):
            self._log.write(chunk)

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)
