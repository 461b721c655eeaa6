"""A liveness file for processes without an HTTP port (the worker, the relay).

Touched while they work, checked by a container healthcheck with `python -m runtime.heartbeat NAME --max-age SECONDS`.

The worker touches it while its Temporal worker runs; the relay after every round. A process whose loop is
stuck, or that has stopped working, lets the file age, and the healthcheck then fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path


def heartbeat_path(name: str) -> Path:
    """Where `name`'s liveness file lives (the temp folder: writable in the container, gone on restart)."""
    return Path(tempfile.gettempdir()) / f"complaints-{name}.alive"


def beat(name: str) -> None:
    """Say `name` is alive now."""
    heartbeat_path(name).touch()


@contextlib.asynccontextmanager
async def beating(name: str, interval_seconds: float = 10.0) -> AsyncIterator[None]:
    """Touch `name`'s file every `interval_seconds` for the block.

    Remove it after, so a stopped process is not reported alive.
    """

    async def keep_beating() -> None:
        while True:
            beat(name)
            await asyncio.sleep(interval_seconds)

    task = asyncio.create_task(keep_beating(), name=f"heartbeat {name}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        heartbeat_path(name).unlink(missing_ok=True)


def age_seconds(name: str) -> float | None:
    """How long ago `name` last said it was alive, or None if it never did."""
    try:
        return time.time() - heartbeat_path(name).stat().st_mtime
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    """`python -m runtime.heartbeat NAME`: exit 0 when the process's liveness file is fresh enough."""
    parser = argparse.ArgumentParser(prog="python -m runtime.heartbeat", description=__doc__)
    parser.add_argument("name", help="worker or relay")
    parser.add_argument("--max-age", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    age = age_seconds(args.name)
    if age is None or age > args.max_age:
        print(f"{args.name}: no sign of life " + ("ever" if age is None else f"for {age:.0f} s"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
