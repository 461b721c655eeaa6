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

import asyncio
import signal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import structlog

from codec.aes_gcm import KeyRing
from codec.server import RunningCodecServer
from runtime.embedded_services import ServiceStarters
from runtime.embedded_support import (
    EMBEDDED_DATABASE,
    LOCALHOST,
    PROJECT_ROOT,
    EmbeddedRuntimeError,
    _Process,
    _require,
    embedded_database,
    ensure_search_attributes,
    free_port,
)
from runtime.ownership import ProcessIdentity, ServiceClaims, stop_process
from runtime.settings import Settings

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

log = structlog.get_logger("runtime")

__all__ = [
    "EMBEDDED_DATABASE",
    "LOCALHOST",
    "PROJECT_ROOT",
    "EmbeddedRuntime",
    "EmbeddedRuntimeError",
    "embedded_database",
    "ensure_search_attributes",
    "free_port",
    "main",
]


class EmbeddedRuntime(ServiceStarters):
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
        """The Temporal namespace the embedded server serves."""
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



def main(argv: list[str] | None = None) -> int:
    """`python -m runtime up`; see runtime.embedded_cli."""
    from runtime.embedded_cli import main as cli_main

    return cli_main(argv)
