"""Serving an aiohttp application on a local port, for the embedded services (partner sandbox, codec server)."""

from __future__ import annotations

from aiohttp import web


async def serve_app(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int, web.AppRunner]:
    """Serve `app` on host:port (0 picks a free port): its URL, the port it got, and the runner that stops it.

    No access log: the sandbox's paths carry phone numbers in clear, and the codec server's handlers log
    who asked for what themselves, which is what an audit needs.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    url_host = f"[{host}]" if ":" in host else host
    return f"http://{url_host}:{bound_port}", bound_port, runner
