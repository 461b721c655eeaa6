"""Schema migrations: numbered SQL files applied once each, in order, under an advisory lock.

Running them again is a no-op, and two processes starting at once do not race: the second waits
for the first's lock and then finds nothing left to apply.
"""

from __future__ import annotations

from importlib import resources

import asyncpg

# Any constant unique to this project; pg_advisory_xact_lock serialises concurrent migrators.
_MIGRATION_LOCK_ID = 7_210_086


def migration_files() -> list[tuple[str, str]]:
    """The bundled migrations as (name, sql), sorted by their numeric prefix."""
    folder = resources.files("store") / "migrations"
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )
    return files


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations not applied yet; return the names applied by this call."""
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK_ID)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   name text PRIMARY KEY,
                   applied_at timestamptz NOT NULL DEFAULT now()
               )"""
        )
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in migration_files():
            if name in done:
                continue
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied_now.append(name)
    return applied_now
