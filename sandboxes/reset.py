"""Both sandboxes back as seeded, so a story can be told again from its start."""

from __future__ import annotations

import aiohttp
import asyncpg

from sandboxes.boss_seed import rearm_stories


async def reset_partner(partner_url: str) -> None:
    """The partner sandbox as seeded: forwardings, sales, counters, remembered answers and faults."""
    async with aiohttp.ClientSession() as session, session.post(f"{partner_url}/admin/reset") as response:
        response.raise_for_status()


async def reset_sandboxes(pool: asyncpg.Pool, partner_url: str) -> None:
    """The billing system's stories rearmed and the partner sandbox reset."""
    async with pool.acquire() as conn:
        await rearm_stories(conn)
    await reset_partner(partner_url)
