"""A small batch of the seed's kind, written into the session's billing sandbox for one test.

The generator is the seed's own (sandboxes/batch_population.py), with a batch id and a number block of
the test's, so tests never touch the seed's 2,000-number batch and never meet each other's numbers.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from domain.clock import at_local, local_day
from sandboxes.batch_population import clawback_batch, population
from sandboxes.boss_seed import write_rows
from stories.validity_shortened import BATCH_ADJUSTMENT_FEN, BATCH_ADJUSTMENT_REASON

# Six in ten shortened, two suspended, one past validity, one topped up: of 20 numbers, 16 are harmed.
HARMED_OF_20 = 16


async def small_batch(pool: asyncpg.Pool, size: int = 20) -> str:
    """Write a clawback batch of `size` made-up numbers (a block of the 139 range of its own); its id."""
    batch_id = f"T-{uuid.uuid4().hex[:10].upper()}"
    anchor = local_day(datetime.now(UTC))
    batch = clawback_batch(batch_id, at_local(anchor - timedelta(days=5), 9, 0), -BATCH_ADJUSTMENT_FEN,
                           BATCH_ADJUSTMENT_REASON)
    first = 13_900_000_000 + random.randrange(0, 99_000) * 1000
    async with pool.acquire() as conn, conn.transaction():
        await write_rows(conn, population(anchor, batch, size=size, first_msisdn=first))
    return batch_id
