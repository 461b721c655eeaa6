"""A PostgreSQL server for tests and benchmarks: the machine's own if one answers, else a throwaway pgserver."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator

import asyncpg


async def answers(url: str, timeout: float = 3) -> bool:
    """Whether a PostgreSQL server accepts a connection at `url`."""
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@contextlib.contextmanager
def reachable_postgres(url: str, prefix: str) -> Iterator[str]:
    """`url` if a server answers there; if not, an embedded pgserver in a temporary folder, for the context's life.

    Called outside any running event loop (it runs its own check), as session fixtures and the benchmarks are.
    """
    if asyncio.run(answers(url)):
        yield url
        return
    import pgserver

    with tempfile.TemporaryDirectory(prefix=prefix) as folder:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        yield server.get_uri()
