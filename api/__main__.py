"""`python -m api`: the HTTP API as a service of its own (the production topology), beside separate workers.

It needs TEMPORAL_ADDRESS and DATABASE_URL (the embedded runtime is the worker's: `./run up` already serves
the API beside it). Stop with SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

from api.runtime import start_api
from auth.sources import keep_trusted_keys_fresh
from runtime.logging import configure_logging
from runtime.settings import ConfigError, Settings, load_settings_or_exit
from store.db import connect_pool
from store.pii import PersonalDataVault


async def serve(settings: Settings) -> None:
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
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(settings))
        except ConfigError as error:
            print(f"config error: {error}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
