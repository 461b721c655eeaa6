"""Connections to the project's PostgreSQL."""

from __future__ import annotations

import asyncpg

from store.migrate import migrate


async def connect_pool(database_url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool on `database_url` with the schema migrated (a no-op when it already is)."""
    pool = await asyncpg.create_pool(database_url, min_size=min_size, max_size=max_size)
    async with pool.acquire() as conn:
        await migrate(conn)
    return pool
