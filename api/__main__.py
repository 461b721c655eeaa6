"""`python -m api`: the HTTP API as a service of its own (the production topology), beside separate workers.

It needs TEMPORAL_ADDRESS and DATABASE_URL (the embedded runtime is the worker's: `./run up` already serves
the API beside it). Stop with SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from api.runtime import start_api
from auth.sources import keep_trusted_keys_fresh
from runtime.service_main import run_service
from runtime.settings import ConfigError, Settings
from store.db import connect_pool
from store.pii import PersonalDataVault


async def serve(settings: Settings) -> None:
    """Serve the API on the configured Temporal and database until SIGINT or SIGTERM."""
    if settings.temporal_address is None or settings.database_url is None:
        raise ConfigError("python -m api needs TEMPORAL_ADDRESS and DATABASE_URL (or run `./run up`, which serves "
                          "the API beside an embedded engine)")
    vault = PersonalDataVault.from_settings(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with keep_trusted_keys_fresh(settings):
        pool = await connect_pool(settings.database_url)
        try:
            api = await start_api(settings, settings.temporal_address, pool, vault)
            try:
                print(f"API (TMF621 troubleTicket): {api.url}/tmf-api/troubleTicket/v5/troubleTicket", flush=True)
                await stop.wait()
            finally:
                await api.stop()
        finally:
            await pool.close()


def main() -> int:
    """Serve the API until SIGINT or SIGTERM; exit status 2 on bad configuration."""
    return run_service(serve)


if __name__ == "__main__":
    sys.exit(main())
