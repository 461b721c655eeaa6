"""The embedded runtime's services, each started or attached to.

Temporal (with its codec server), PostgreSQL through pgserver, the partner sandbox; then the migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import asyncpg
import structlog

from auth import trust
from codec.aes_gcm import KeyRing
from codec.server import RunningCodecServer, codec_app, start_codec_server
from runtime.binaries import DEV_SERVER_TUNING, temporal_cli_path
from runtime.embedded_processes import ProcessKeeper
from runtime.embedded_support import (
    _NOT_READY,
    EMBEDDED_DATABASE,
    LOCALHOST,
    EmbeddedRuntimeError,
    _connect_temporal,
    _EmbeddedTrust,
    _get_pg_server,
    _one_line,
    _partner_env,
    _partner_healthy,
    _pids_with_argument,
    _port_open,
    _require,
    _signal_and_wait,
    ensure_search_attributes,
)
from runtime.ownership import ProcessIdentity
from store.migrate import migrate
from workflows.search_attributes import dev_server_flags

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = structlog.get_logger("runtime")


class ServiceStarters(ProcessKeeper):
    """Starting and stopping each embedded service (EmbeddedRuntime sets these attributes in its __init__)."""

    _pg_identity: ProcessIdentity | None
    _pg_server: PostgresServer | None
    _pg_started_by_us: bool
    _temporal_address: str | None
    _database_url: str | None
    _partner_url: str | None
    _ui_url: str | None
    _keys: KeyRing | None
    _codec_server: RunningCodecServer | None
    _codec_url: str | None

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
                    "--log-level",
                    "warn",
                    *DEV_SERVER_TUNING,
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
            conn = await asyncpg.connect(_require(self._database_url, "database_url"))
        except (OSError, asyncpg.PostgresError) as error:
            raise EmbeddedRuntimeError(
                f"cannot connect to the project database ({_one_line(error)}); check DATABASE_URL"
            ) from None
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
        log.info("database migrated", applied=applied or "nothing new")

