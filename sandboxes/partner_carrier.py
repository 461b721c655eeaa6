"""A sandbox of the partners a store deals with: other carriers and the agent stores that sell our numbers.

One aiohttp app, in-memory state seeded from the stories' partner records (stories/<category>.py):

- the forwarding case: FORWARDING_CUSTOMER's old China Unicom number still forwards calls to the new
  China Mobile number; the partner cancels it only after checking the holder's name and ID number
  (the store called 10010 and did exactly that);
- the tariff case: agent store AG-HZ-017 sold 13758250617 on plan SZX-58 without explaining the tariff;
  a joint verification with the store agrees a remedy.

The endpoints are in sandboxes/partner_endpoints.py, the state in sandboxes/partner_state.py.

Run it with `python -m sandboxes.partner_carrier --port 8787`; see --help.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web

from runtime.serving import serve_app
from sandboxes.partner_endpoints import make_app

__all__ = ["RunningSandbox", "main", "make_app", "start_partner_sandbox"]

log = structlog.get_logger("sandboxes.partner_carrier")


# --- running it ----------------------------------------------------------------------------------


@dataclass
class RunningSandbox:
    """A sandbox listening on a real port."""

    url: str
    port: int
    runner: web.AppRunner

    async def stop(self) -> None:
        """Stop serving."""
        await self.runner.cleanup()


async def start_partner_sandbox(host: str = "127.0.0.1", port: int = 0, *, seed: int = 0) -> RunningSandbox:
    """Start the sandbox on host:port (0 picks a free port) and return where it listens."""
    url, bound_port, runner = await serve_app(make_app(seed=seed), host, port)
    return RunningSandbox(url=url, port=bound_port, runner=runner)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.partner_carrier",
        description=(
            "Partner-carrier sandbox: call-forwarding cancellation at china_unicom/china_telecom (with a "
            "name + ID number check) and joint verifications with agent stores, seeded with the seed's "
            "stories. State is in memory; POST /admin/reset restores the seed, POST /admin/faults injects "
            "latency and transient 503s."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8787, help="port to listen on, 0 for any free port (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the random faults (default: %(default)s)"
    )
    parser.add_argument(
        "--log-format",
        choices=("console", "json"),
        default="console",
        help="log lines for people or machines",
    )
    return parser


async def _serve(host: str, port: int, seed: int) -> None:
    sandbox = await start_partner_sandbox(host, port, seed=seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("partner_sandbox.ready", url=sandbox.url, port=sandbox.port, seed=seed)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
        log.info("partner_sandbox.stopped")


def main(argv: list[str] | None = None) -> int:
    """`python -m sandboxes.partner_carrier`: serve the partner sandbox until stopped."""
    args = _parser().parse_args(argv)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if args.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    try:
        asyncio.run(_serve(args.host, args.port, args.seed))
    except OSError as error:
        print(f"partner sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
