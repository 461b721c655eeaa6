"""`python -m runtime up`: the embedded services alone, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING

from runtime.logging import configure_logging
from runtime.settings import ENV_HELP, ConfigError, Settings, load_settings_or_exit

if TYPE_CHECKING:
    pass

from runtime.embedded import EmbeddedRuntime
from runtime.embedded_support import EmbeddedRuntimeError

# --- command line ----------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    variables = "\n".join(f"  {name:<22} {text}" for name, text in ENV_HELP.items())
    parser = argparse.ArgumentParser(
        prog="python -m runtime",
        description="Run the complaint engine's services on this machine (no Docker, no internet).",
        epilog=f"Configuration comes from environment variables (empty counts as unset):\n{variables}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "up",
        help="start Temporal, PostgreSQL and the partner sandbox and stay up until Ctrl-C",
        description=(
            "Start (or attach to) the Temporal dev server with its Web UI, PostgreSQL and the partner-carrier "
            "sandbox, with their data in COMPLAINTS_DATA_DIR (default .data), apply the database migrations, "
            "print the addresses, and stay up until Ctrl-C. Running it again resumes on the same data."
        ),
    )
    return parser


async def _up(settings: Settings) -> int:
    # Signals are handled from the start, so Ctrl-C at any moment takes the same orderly way out.
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_requested.set)
    runtime = EmbeddedRuntime(settings)
    starting = asyncio.create_task(runtime.start())
    stopping = asyncio.create_task(stop_requested.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        print("stopping while starting...", file=sys.stderr, flush=True)
        starting.cancel()  # start() stops whatever it had started before re-raising
        with contextlib.suppress(asyncio.CancelledError, EmbeddedRuntimeError):
            await starting
        return 130
    if (error := starting.exception()) is not None:
        stopping.cancel()
        if isinstance(error, ConfigError):
            print(f"config error: {error}", file=sys.stderr)
            return 2
        if isinstance(error, EmbeddedRuntimeError):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise error
    try:
        _print_summary(runtime)
        await stopping
        print("stopping...", flush=True)
    finally:
        await runtime.stop()
    return 0


def _print_summary(runtime: EmbeddedRuntime) -> None:
    exports = " ".join(f"{name}='{value}'" for name, value in runtime.service_env().items())
    print(
        "\n".join(
            [
                "",
                f"complaint engine services are up (data in {runtime.data_dir})",
                f"  Temporal    {runtime.temporal_address}  (namespace {runtime.namespace})",
                f"  Web UI      {runtime.ui_url or '(external Temporal: see its own UI)'}",
                f"  Codec       {runtime.codec_url or '(external Temporal: its own codec server)'}",
                f"  PostgreSQL  {runtime.database_url}",
                f"  Partner     {runtime.partner_url}",
                "",
                "To run the worker or the starter against them from another terminal:",
                f"  export {exports}",
                "",
                "Press Ctrl-C to stop.",
            ]
        ),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m runtime`."""
    args = _parser().parse_args(argv)
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    if args.command == "up":
        return asyncio.run(_up(settings))
    return 2
