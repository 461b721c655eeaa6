"""The relay as its own service: `python -m delivery` (docker-compose.yml's `relay`).

It needs only the project database (DATABASE_URL). Stop with SIGINT or SIGTERM: a delivery in flight is
finished or, if the process is killed, sent again by the next relay with the same webhook-id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from delivery.relay import Relay
from runtime.heartbeat import beat
from runtime.logging import configure_logging
from runtime.process_exit import exit_without_finalizing
from runtime.settings import load_settings_or_exit
from store.db import connect_pool


async def serve(database_url: str) -> None:
    """Deliver webhooks and notifications from the database until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pool = await connect_pool(database_url, max_size=5)
    try:
        async with Relay(pool) as relay:
            await relay.run(stop, heartbeat=lambda: beat("relay"))
    finally:
        await pool.close()


def main() -> int:
    """`python -m delivery`: run the relay service; exit status 2 without DATABASE_URL."""
    argparse.ArgumentParser(prog="python -m delivery", description=__doc__).parse_args()
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    if settings.database_url is None:
        print("config error: DATABASE_URL is not set: the relay service delivers from the project database; "
              "with the embedded runtime the worker runs the relay itself", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings.database_url))
    return 0


if __name__ == "__main__":
    exit_without_finalizing(main)
