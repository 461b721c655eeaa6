"""Serving the API with uvicorn inside a running asyncio program (the embedded runtime, tests, the bench)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals alone: the runtime around it owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class RunningApi:
    url: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Ask the server to exit and wait until it has."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def serve_api(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> RunningApi:
    """Serve `app` on host:port (0 picks a free port) until `stop()`; raises OSError if the port is taken.

    uvicorn binds the port itself: handed a pre-bound socket, its connections lost TCP_NODELAY here, and
    every response waited ~40 ms for a delayed ACK.
    """
    # No access log: the routes log what matters, and query strings may carry filters.
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            # uvicorn logs a bind failure and exits instead of raising: say which port was refused.
            with contextlib.suppress(BaseException):
                task.result()
            raise OSError(f"the API could not listen on {host}:{port}")
        await asyncio.sleep(0.01)
    bound_port = int(server.servers[0].sockets[0].getsockname()[1])
    url_host = f"[{host}]" if ":" in host else host
    return RunningApi(url=f"http://{url_host}:{bound_port}", port=bound_port, server=server, task=task)
