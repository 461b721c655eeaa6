"""The embedded runtime's subprocesses.

Spawned with a log and a claim in the data folder, waited for until ready, stopped in order, and orphans of an earlier
run of the same data folder adopted.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from runtime.embedded_support import (
    _NOT_READY,
    LOCALHOST,
    PROJECT_ROOT,
    EmbeddedRuntimeError,
    _log_tail,
    _one_line,
    _port_open,
    _Process,
)
from runtime.ownership import ProcessIdentity, ServiceClaims, stop_process
from runtime.settings import Settings

if TYPE_CHECKING:
    pass

log = structlog.get_logger("runtime")


class ProcessKeeper:
    """The subprocess half of EmbeddedRuntime (which sets these attributes in its __init__)."""

    _settings: Settings
    _startup_timeout: float
    _stop_grace: float
    _data_dir: Path
    _processes: list[_Process]
    _claims: ServiceClaims
    _adopted: list[tuple[str, ProcessIdentity]]

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


