"""Serving the API with uvicorn inside a running asyncio program (the embedded runtime, tests, the bench)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
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
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def serve_api(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> RunningApi:
    """Serve `app` on host:port (0 picks a free port) until `stop()`; raises OSError if the port is taken."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = int(sock.getsockname()[1])
    # No access log: paths carry case ids only, but query strings may carry filters; the routes log what matters.
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            sock.close()
            task.result()
            raise OSError(f"the API could not start on {host}:{bound_port}")
        await asyncio.sleep(0.01)
    url_host = f"[{host}]" if ":" in host else host
    return RunningApi(url=f"http://{url_host}:{bound_port}", port=bound_port, server=server, task=task)
