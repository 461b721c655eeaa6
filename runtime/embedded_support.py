"""What the embedded runtime's parts share.

Where things live, how a started process is kept, and the small checks (is a port open, is the partner healthy) each
service starter uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from auth.embedded import EmbeddedIssuer
from auth.tokens import TrustedKeys
from runtime.ownership import ProcessIdentity, ServiceClaims
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = structlog.get_logger("runtime")

LOCALHOST = "127.0.0.1"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_DATABASE = "complaints"


class EmbeddedRuntimeError(RuntimeError):
    """A service could not be started or attached to; the message says which and why."""


# What a service that is still starting answers: connection refused or reset (OSError), a client
# that cannot connect (RuntimeError), an RPC error (namespace not created yet), a slow answer.
_NOT_READY = (OSError, RuntimeError, RPCError, TimeoutError)


@dataclass
class _Process:
    """A subprocess this runtime started, and where its output goes."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    log_offset: int  # where this run's output starts in an appended log file
    identity: ProcessIdentity | None  # as recorded in the data folder's claims; None if it died at once


class _EmbeddedTrust:
    """The embedded issuer's public keys, read again when its key file changes (a rotation is trusted at once)."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._seen: tuple[int, TrustedKeys] | None = None

    def __call__(self) -> TrustedKeys:
        key_file = self._data_dir / "auth" / "signing-keys.json"
        changed = key_file.stat().st_mtime_ns if key_file.exists() else 0
        if self._seen is None or self._seen[0] != changed:
            self._seen = (changed, EmbeddedIssuer.open(self._data_dir).trusted_keys())
        return self._seen[1]


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the custom search attributes the workflows use that `namespace` lacks.

    Returns the names added. Raises EmbeddedRuntimeError when a name exists with another type,
    since the workflows would then fail to upsert it.
    """
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    existing = dict(response.custom_attributes)
    missing: dict[str, IndexedValueType.ValueType] = {}
    for key in SEARCH_ATTRIBUTES:
        wanted = IndexedValueType.ValueType(int(key.indexed_value_type))
        have = existing.get(key.name)
        if have is None:
            missing[key.name] = wanted
        elif have != wanted:
            raise EmbeddedRuntimeError(
                f"search attribute {key.name} is registered as {IndexedValueType.Name(have)} in namespace "
                f"{namespace!r}, but the workflows need {IndexedValueType.Name(wanted)}"
            )
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(search_attributes=missing, namespace=namespace)
            )
        except RPCError as error:
            # Another process registering at the same moment is fine.
            if error.status != RPCStatusCode.ALREADY_EXISTS:
                raise
    return sorted(missing)


# --- helpers ---------------------------------------------------------------------------------------


def _require(value: str | None, name: str) -> str:
    if value is None:
        raise EmbeddedRuntimeError(f"{name} is known only once the runtime has started")
    return value


def _one_line(error: BaseException | None) -> str:
    if error is None:
        return "none"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:300]


def _log_tail(started: _Process, lines: int = 30) -> str:
    try:
        with started.log_path.open("rb") as log_file:
            log_file.seek(started.log_offset)
            text = log_file.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"(log not readable: {error})"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


async def _port_open(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=2)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _connect_temporal(address: str, namespace: str) -> Client:
    """A client once the server answers and knows the namespace; raises otherwise."""
    client = await Client.connect(address, namespace=namespace)
    await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    return client


async def _partner_healthy(base_url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(f"{base_url}/health") as response,
        ):
            if response.status != 200:
                return False
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok"


def _partner_env() -> dict[str, str]:
    env = dict(os.environ)
    # The sandbox module must be importable even when the project is not pip-installed.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


@contextlib.asynccontextmanager
async def embedded_database(data_dir: Path, stop_grace: float = 10.0) -> AsyncIterator[str]:
    """The URL of the embedded database in `data_dir`, for a short-lived reader such as the CLI.

    PostgreSQL is attached to when it runs (a worker is up) and otherwise started for the duration
    and stopped again, so reading a case never leaves a server behind.
    """
    pgdata = data_dir / "pg"
    if not (pgdata / "PG_VERSION").exists():
        raise EmbeddedRuntimeError(
            f"there is no embedded database in {data_dir}: run `./run demo` or `./run up` first, "
            "or set DATABASE_URL"
        )
    server, started_by_us = await asyncio.to_thread(_get_pg_server, pgdata)
    pid = server.get_pid() if started_by_us else None
    # Claimed while it runs, so that if this process is killed, the next `./run up` adopts the server.
    claims = ServiceClaims(data_dir)
    claimed = claims.claim("postgres", pid) if pid is not None else None
    try:
        yield server.get_uri(EMBEDDED_DATABASE)
    finally:
        if pid is not None:
            await asyncio.to_thread(_signal_and_wait, pid, signal.SIGINT, stop_grace)
        if claimed is not None:
            claims.release("postgres", claimed)
        with contextlib.suppress(Exception):
            server.cleanup()


def _get_pg_server(pgdata: Path) -> tuple[PostgresServer, bool]:
    """pgserver's handle for pgdata, and whether this call is what started the server."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes with the fallback.
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server
        from pgserver.utils import PostmasterInfo

    before = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    was_running = before is not None and before.is_running()
    # cleanup_mode=None: pgserver must not stop it at interpreter exit; we stop it ourselves, and
    # only if we started it.
    server = get_server(pgdata, cleanup_mode=None)
    return server, not was_running


def _signal_and_wait(pid: int, sig: signal.Signals, grace: float) -> None:
    """Send sig to pid, wait up to grace seconds for it to exit, then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.1)
    log.warning("process ignored the stop signal, killing it", pid=pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _pids_with_argument(argument: str) -> list[int]:
    """The processes with `argument` in their command line (Linux), to tell a person what to stop."""
    proc = Path("/proc")
    found = []
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nobody listens on right now (for tests and throwaway runs).

    Drawn below the kernel's ephemeral range. A process asking for any free port (port 0) gets one there: the
    `temporal` CLI for its own HTTP and metrics ports, and every outbound connection. A port drawn there could
    be taken by one of them between this probe and its service's bind, which then fails "address in use".
    """
    below = _ephemeral_ports_start()
    for _ in range(200):
        port = secrets.randbelow(below - _LOWEST_DRAWN) + _LOWEST_DRAWN
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {_LOWEST_DRAWN} and {below} on {host}")


# Below the ephemeral range and above the well-known services that sit in the low thousands.
_LOWEST_DRAWN = 10_000


def _ephemeral_ports_start() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32_768  # Linux's default
    return max(low, _LOWEST_DRAWN + 1_000)


