"""The embedded runtime: everything the engine needs on one machine, without Docker or internet.

For each service not configured externally (TEMPORAL_ADDRESS, DATABASE_URL, PARTNER_URL) it starts
a local one whose data lives in the data folder, so running it again resumes on the same data:

- the Temporal dev server (`temporal server start-dev`, SQLite in <data_dir>/temporal.db, Web UI), and beside
  it, in this process, the codec server its Web UI decodes payloads with (`--ui-codec-endpoint`);
- PostgreSQL through pgserver in <data_dir>/pg;
- the partner-carrier sandbox (`python -m sandboxes.partner_carrier`).

A service already answering on its port (a previous `python -m runtime up` still running) is
attached to, not started twice; on exit only what this runtime started is stopped.

A service left running by a run of the same data folder that ended without stopping it (a worker
killed with SIGKILL) is adopted: used, and stopped on exit like one this runtime started. Which run
owns which process is recorded in <data_dir>/run/ (see runtime.ownership), checked by pid, start
time and command line, so a process of another data folder, or a recycled pid, is never stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiohttp
import asyncpg
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from auth import trust
from auth.embedded import EmbeddedIssuer
from auth.tokens import TrustedKeys
from codec.aes_gcm import KeyRing
from codec.server import RunningCodecServer, codec_app, start_codec_server
from runtime.binaries import temporal_cli_path
from runtime.logging import configure_logging
from runtime.ownership import ProcessIdentity, ServiceClaims, stop_process
from runtime.settings import ENV_HELP, ConfigError, Settings, load_settings_or_exit
from store.migrate import migrate
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES
from workflows.search_attributes import dev_server_flags

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


class EmbeddedRuntime:
    """Async context manager that starts (or attaches to) the services the settings leave embedded.

    Example:
        async with EmbeddedRuntime(Settings.from_env()) as runtime:
            client = await Client.connect(runtime.temporal_address)
    """

    def __init__(
        self, settings: Settings, *, startup_timeout: float = 60.0, stop_grace: float = 10.0
    ) -> None:
        self._settings = settings
        self._startup_timeout = startup_timeout
        self._stop_grace = stop_grace
        self._data_dir = settings.data_dir.expanduser().resolve()
        self._processes: list[_Process] = []
        self._claims = ServiceClaims(self._data_dir)
        self._adopted: list[tuple[str, ProcessIdentity]] = []  # orphans of an earlier run, stopped on exit
        self._pg_identity: ProcessIdentity | None = None
        self._pg_server: PostgresServer | None = None
        self._pg_started_by_us = False
        self._temporal_address: str | None = None
        self._database_url: str | None = None
        self._partner_url: str | None = None
        self._ui_url: str | None = None
        self._keys: KeyRing | None = None
        self._codec_server: RunningCodecServer | None = None
        self._codec_url: str | None = None

    # --- what a caller reads once started --------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The absolute data folder."""
        return self._data_dir

    @property
    def temporal_address(self) -> str:
        """host:port of the Temporal frontend."""
        return _require(self._temporal_address, "temporal_address")

    @property
    def database_url(self) -> str:
        """The project's PostgreSQL, migrated."""
        return _require(self._database_url, "database_url")

    @property
    def partner_url(self) -> str:
        """Base URL of the partner-carrier service."""
        return _require(self._partner_url, "partner_url")

    @property
    def ui_url(self) -> str | None:
        """The Temporal Web UI of the embedded dev server; None when Temporal is external."""
        return self._ui_url

    @property
    def codec_url(self) -> str | None:
        """The codec server the embedded Web UI decodes payloads with; None when Temporal is external."""
        return self._codec_url

    @property
    def namespace(self) -> str:
        return self._settings.temporal_namespace

    def service_env(self) -> dict[str, str]:
        """Environment variables that point another process (worker, starter) at these services."""
        env = {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": self.namespace,
            "DATABASE_URL": self.database_url,
            "PARTNER_URL": self.partner_url,
        }
        settings = self._settings
        if settings.payload_keys is None:
            # The path of the key ring, never the keys: with TEMPORAL_ADDRESS set, PAYLOAD_KEYS or this is required.
            env["PAYLOAD_KEYS_FILE"] = str(settings.payload_keys_file or settings.default_key_file)
        return env

    # --- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start or attach to every service, then apply the database migrations."""
        settings = self._settings
        if (
            settings.uses_embedded_temporal
            or settings.uses_embedded_postgres
            or settings.uses_embedded_partner
        ):
            # Only then: a production worker with everything external may run on a read-only filesystem.
            (self._data_dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            results = await asyncio.gather(
                self._start_temporal(),
                self._start_postgres(),
                self._start_partner(),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            await self._migrate()
        except BaseException:
            await self.stop()
            raise
        log.info(
            "ready",
            temporal=self.temporal_address,
            namespace=settings.temporal_namespace,
            ui=self.ui_url,
            partner=self.partner_url,
        )

    async def stop(self) -> None:
        """Stop what this runtime started, newest first; leave what it attached to running."""
        for started in reversed(self._processes):
            await self._terminate(started)
        self._processes.clear()
        for name, orphan in reversed(self._adopted):
            log.info(f"stopping adopted {name}", pid=orphan.pid)
            await asyncio.to_thread(stop_process, orphan, signal.SIGTERM, self._stop_grace)
            self._claims.release(name, orphan)
        self._adopted.clear()
        if self._pg_server is not None:
            server, self._pg_server = self._pg_server, None
            await asyncio.to_thread(self._stop_postgres, server)
        if self._codec_server is not None:
            codec, self._codec_server = self._codec_server, None
            await codec.stop()

    async def _adopt_orphan(self, name: str, port: int) -> None:
        """Take over `name` if a run of this data folder that is gone left it running.

        If it does not listen on the port this run uses (the port setting changed), it is stopped at
        once: it holds the data files the new one needs.
        """
        orphan = self._claims.orphan(name)
        if orphan is None:
            return
        if not await _port_open(LOCALHOST, port):
            log.warning(f"stopping {name} left running by an earlier run of this data folder", pid=orphan.pid)
            await asyncio.to_thread(stop_process, orphan, signal.SIGTERM, self._stop_grace)
            self._claims.release(name, orphan)
            return
        log.warning(
            f"adopting {name} left running by an earlier run of this data folder; it stops when this run stops",
            pid=orphan.pid,
        )
        adopted = self._claims.claim(name, orphan.pid)
        if adopted == orphan:
            self._adopted.append((name, orphan))

    # --- Temporal ----------------------------------------------------------------------------------

    async def _start_temporal(self) -> None:
        settings = self._settings
        if not settings.uses_embedded_temporal:
            self._temporal_address = settings.temporal_address
            return
        address = f"{LOCALHOST}:{settings.temporal_port}"
        namespace = settings.temporal_namespace
        await self._adopt_orphan("temporal", settings.temporal_port)
        codec_url = await self._start_codec_server()
        if await _port_open(LOCALHOST, settings.temporal_port):
            try:
                client = await asyncio.wait_for(_connect_temporal(address, namespace), timeout=10)
            except _NOT_READY as error:
                raise EmbeddedRuntimeError(
                    f"port {settings.temporal_port} is in use by something that does not answer as a Temporal "
                    f"server with namespace {namespace!r} ({_one_line(error)}); stop it or set TEMPORAL_PORT "
                    "to a free port"
                ) from None
            if not any(name == "temporal" for name, _ in self._adopted):
                pids = await asyncio.to_thread(_pids_with_argument, str(self._data_dir / "temporal.db"))
                log.info(
                    "attached to running temporal server; it keeps running after this run",
                    address=address,
                    stop_with=f"kill {' '.join(map(str, pids))}" if pids else None,
                )
        else:
            db_file = self._data_dir / "temporal.db"
            log.info("starting temporal dev server", address=address, db=str(db_file))
            started = await self._spawn(
                "temporal",
                [
                    temporal_cli_path(),
                    "server",
                    "start-dev",
                    "--db-filename",
                    str(db_file),
                    "--ip",
                    LOCALHOST,
                    "--port",
                    str(settings.temporal_port),
                    "--ui-port",
                    str(settings.temporal_ui_port),
                    # The stock Web UI asks this server to decode payloads (with the user's bearer token).
                    "--ui-codec-endpoint",
                    codec_url,
                    "--namespace",
                    namespace,
                    "--sqlite-pragma",
                    "journal_mode=WAL",
                    "--sqlite-pragma",
                    "synchronous=NORMAL",
                    "--log-level",
                    "warn",
                    *dev_server_flags(),
                ],
            )
            client = await self._wait_until_ready(
                started, lambda: asyncio.wait_for(_connect_temporal(address, namespace), timeout=5)
            )
        # The dev server registers its --search-attribute flags only on a fresh database file, so
        # attributes added to the code later would be missing on a resumed one: add what lacks.
        added = await ensure_search_attributes(client, namespace)
        if added:
            log.info("registered search attributes", namespace=namespace, names=added)
        self._temporal_address = address
        self._ui_url = f"http://{LOCALHOST}:{settings.temporal_ui_port}"
        log.info("temporal ready", address=address, namespace=namespace, ui=self._ui_url)

    # --- codec server ------------------------------------------------------------------------------

    async def _start_codec_server(self) -> str:
        """Serve /encode and /decode for the embedded Web UI and `temporal --codec-endpoint`; its URL.

        In this process, with this data folder's payload keys and the embedded issuer's trusted keys. If
        another live run of this data folder serves it already, that one is used.
        """
        settings = self._settings
        url = f"http://{LOCALHOST}:{settings.codec_port}"
        self._codec_url = url
        if await _port_open(LOCALHOST, settings.codec_port):
            if await _port_open(LOCALHOST, settings.temporal_port):
                log.info("attached to the running codec server of this data folder's engine", url=url)
                return url
            raise EmbeddedRuntimeError(
                f"port {settings.codec_port} is in use by something else; stop it or set CODEC_PORT to a free port"
            )
        app = codec_app(
            self.key_ring,
            # With an OIDC issuer: the provider's keys, as the worker installs and refreshes them
            # (auth.sources); until it has, every token gets a 401 that says so.
            trusted_keys=_EmbeddedTrust(self._data_dir) if settings.uses_embedded_issuer else trust.require_installed,
            namespaces={settings.temporal_namespace},
            cors_origins=settings.cors_origins,
        )
        try:
            self._codec_server = await start_codec_server(app, LOCALHOST, settings.codec_port)
        except OSError as error:
            raise EmbeddedRuntimeError(
                f"the codec server could not listen on port {settings.codec_port} ({_one_line(error)}); "
                "set CODEC_PORT to a free port"
            ) from None
        log.info("codec server ready", url=url, namespace=settings.temporal_namespace,
                 cors_origins=list(settings.cors_origins))
        return url

    @property
    def key_ring(self) -> KeyRing:
        """This deployment's payload key ring (ConfigError, naming the variable, if missing or malformed)."""
        if self._keys is None:
            self._keys = self._settings.payload_key_ring()
        return self._keys

    # --- PostgreSQL --------------------------------------------------------------------------------

    async def _start_postgres(self) -> None:
        settings = self._settings
        if not settings.uses_embedded_postgres:
            self._database_url = settings.database_url
            return
        pgdata = self._data_dir / "pg"
        log.info("starting postgres", pgdata=str(pgdata))
        orphan = self._claims.orphan("postgres")
        starting = asyncio.ensure_future(asyncio.to_thread(_get_pg_server, pgdata))
        try:
            server, started_by_us = await asyncio.shield(starting)
        except asyncio.CancelledError:
            # A thread cannot be interrupted: let pgserver finish, so that stop() can stop the server
            # it is starting instead of leaving it running behind our back.
            with contextlib.suppress(Exception):
                self._pg_server, self._pg_started_by_us = await starting
            raise
        except (OSError, subprocess.SubprocessError, AssertionError) as error:
            raise EmbeddedRuntimeError(
                f"PostgreSQL in {pgdata} did not start ({_one_line(error)}); its log is {pgdata / 'log'}"
            ) from error
        self._pg_server, self._pg_started_by_us = server, started_by_us
        pid = server.get_pid()
        if not started_by_us and orphan is not None and orphan.pid == pid:
            log.warning(
                "adopting postgres left running by an earlier run of this data folder; it stops when this run stops",
                pid=pid,
            )
            self._pg_started_by_us = True
        elif not started_by_us:
            log.info(
                "attached to running postgres; it keeps running after this run",
                pgdata=str(pgdata),
                stop_with=f"kill -INT {pid}" if pid is not None else None,
            )
        if self._pg_started_by_us and pid is not None:
            self._pg_identity = self._claims.claim("postgres", pid)
        admin = await asyncpg.connect(server.get_uri())
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", EMBEDDED_DATABASE)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE}"')
        finally:
            await admin.close()
        self._database_url = server.get_uri(EMBEDDED_DATABASE)
        log.info("postgres ready", url=self._database_url)

    def _stop_postgres(self, server: PostgresServer) -> None:
        try:
            if self._pg_started_by_us:
                pid = server.get_pid()
                log.info("stopping postgres", pid=pid)
                if pid is not None:
                    # SIGINT is PostgreSQL's "fast" shutdown: it disconnects clients and checkpoints;
                    # SIGTERM ("smart") would wait for every client to leave first.
                    _signal_and_wait(pid, signal.SIGINT, self._stop_grace)
                if self._pg_identity is not None:
                    self._claims.release("postgres", self._pg_identity)
                    self._pg_identity = None
        finally:
            # Drop pgserver's cached handle, so a later start in this process looks again.
            with contextlib.suppress(Exception):
                server.cleanup()
            type(server)._instances.pop(server.pgdata, None)

    # --- partner sandbox ---------------------------------------------------------------------------

    async def _start_partner(self) -> None:
        settings = self._settings
        if not settings.uses_embedded_partner:
            self._partner_url = settings.partner_url
            return
        url = f"http://{LOCALHOST}:{settings.partner_port}"
        await self._adopt_orphan("partner", settings.partner_port)
        if await _partner_healthy(url):
            if not any(name == "partner" for name, _ in self._adopted):
                log.info("attached to running partner sandbox; it keeps running after this run", url=url)
        elif await _port_open(LOCALHOST, settings.partner_port):
            raise EmbeddedRuntimeError(
                f"port {settings.partner_port} is in use by something that is not the partner sandbox "
                f"(no {{'status': 'ok'}} at {url}/health); stop it or set PARTNER_PORT to a free port"
            )
        else:
            log.info("starting partner sandbox", url=url)
            started = await self._spawn(
                "partner",
                [
                    sys.executable,
                    "-m",
                    "sandboxes.partner_carrier",
                    "--host",
                    LOCALHOST,
                    "--port",
                    str(settings.partner_port),
                ],
                env=_partner_env(),
            )

            async def healthy() -> bool:
                if not await _partner_healthy(url):
                    raise EmbeddedRuntimeError("not healthy yet")
                return True

            await self._wait_until_ready(started, healthy)
        self._partner_url = url
        log.info("partner sandbox ready", url=url)

    # --- migrations --------------------------------------------------------------------------------

    async def _migrate(self) -> None:
        try:
            conn = await asyncpg.connect(self.database_url)
        except (OSError, asyncpg.PostgresError) as error:
            raise EmbeddedRuntimeError(
                f"cannot connect to the project database ({_one_line(error)}); check DATABASE_URL"
            ) from None
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
        log.info("database migrated", applied=applied or "nothing new")

    # --- processes ---------------------------------------------------------------------------------

    async def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> _Process:
        log_path = self._data_dir / "logs" / f"{name}.log"
        with log_path.open("ab") as log_file:
            log_file.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} starting {name}\n".encode())
            log_file.flush()
            offset = log_file.tell()
            # Its own session: Ctrl-C in the terminal reaches only us, and we stop children in order.
            process = await asyncio.create_subprocess_exec(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                cwd=str(PROJECT_ROOT),
                env=env,
                start_new_session=True,
            )
        # Recorded before it is ready: if this run is killed while waiting, the next one adopts it.
        identity = self._claims.claim(name, process.pid)
        started = _Process(name=name, process=process, log_path=log_path, log_offset=offset, identity=identity)
        self._processes.append(started)
        return started

    async def _wait_until_ready(self, started: _Process, probe: Any) -> Any:
        """Call `probe()` until it returns; fail early if the process dies, or after the timeout."""
        deadline = time.monotonic() + self._startup_timeout
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if started.process.returncode is not None:
                raise EmbeddedRuntimeError(
                    f"{started.name} exited with status {started.process.returncode} while starting; "
                    f"end of {started.log_path}:\n{_log_tail(started)}"
                )
            try:
                return await probe()
            except _NOT_READY as error:
                last_error = error
            await asyncio.sleep(0.25)
        raise EmbeddedRuntimeError(
            f"{started.name} was not ready after {self._startup_timeout:.0f} s "
            f"(last error: {_one_line(last_error)}); end of {started.log_path}:\n{_log_tail(started)}"
        )

    async def _terminate(self, started: _Process) -> None:
        process = started.process
        if process.returncode is None:
            log.info(f"stopping {started.name}", pid=process.pid)
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=self._stop_grace)
            except TimeoutError:
                log.warning(f"{started.name} ignored SIGTERM, killing it", pid=process.pid)
                process.kill()
                await process.wait()
        if started.identity is not None:
            self._claims.release(started.name, started.identity)


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
    """A TCP port nobody listens on right now (for tests and throwaway runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


# --- command line ----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    variables = "\n".join(f"  {name:<22} {text}" for name, text in ENV_HELP.items())
    parser = argparse.ArgumentParser(
        prog="python -m runtime",
        description="Run the complaint engine's services on this machine (no Docker, no internet).",
        epilog=f"Configuration comes from environment variables (empty counts as unset):\n{variables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "up",
        help="start Temporal, PostgreSQL and the partner sandbox and stay up until Ctrl-C",
        description=(
            "Start (or attach to) the Temporal dev server with its Web UI, PostgreSQL and the partner-carrier "
            "sandbox, with their data in COMPLAINTS_DATA_DIR (default .data), apply the database migrations, "
            "print the addresses, and stay up until Ctrl-C. Running it again resumes on the same data."
        ),
    )
    return parser


async def _up(settings: Settings) -> int:
    # Signals are handled from the start, so Ctrl-C at any moment takes the same orderly way out.
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    runtime = EmbeddedRuntime(settings)
    starting = asyncio.create_task(runtime.start())
    stopping = asyncio.create_task(stop_requested.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        print("stopping while starting...", file=sys.stderr, flush=True)
        starting.cancel()  # start() stops whatever it had started before re-raising
        with contextlib.suppress(asyncio.CancelledError, EmbeddedRuntimeError):
            await starting
        return 130
    if (error := starting.exception()) is not None:
        stopping.cancel()
        if isinstance(error, ConfigError):
            print(f"config error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, EmbeddedRuntimeError):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise error
    try:
        _print_summary(runtime)
        await stopping
        print("stopping...", flush=True)
    finally:
        await runtime.stop()
    return 0


def _print_summary(runtime: EmbeddedRuntime) -> None:
    exports = " ".join(f"{name}='{value}'" for name, value in runtime.service_env().items())
    print(
        "\n".join(
            [
                "",
                f"complaint engine services are up (data in {runtime.data_dir})",
                f"  Temporal    {runtime.temporal_address}  (namespace {runtime.namespace})",
                f"  Web UI      {runtime.ui_url or '(external Temporal: see its own UI)'}",
                f"  Codec       {runtime.codec_url or '(external Temporal: its own codec server)'}",
                f"  PostgreSQL  {runtime.database_url}",
                f"  Partner     {runtime.partner_url}",
                "",
                "To run the worker or the starter against them from another terminal:",
                f"  export {exports}",
                "",
                "Press Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m runtime`."""
    args = _parser().parse_args(argv)
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    if args.command == "up":
        return asyncio.run(_up(settings))
    return 2
