"""The billing system (BOSS) served from the `boss` schema of a PostgreSQL database.

The schema is store/migrations/0002_boss_sandbox.sql, seeded by sandboxes/boss_seed.py. Each write
and its idempotency record commit in one transaction, so a crash leaves either both or neither.
"""

from __future__ import annotations

import asyncpg

from adapters.billing.actions import BillingActions
from adapters.billing.adjustments import BillingAdjustments
from adapters.billing.reads import BillingReads


class PostgresBillingSystem(BillingReads, BillingAdjustments, BillingActions):
    """The billing port (ports.billing.BillingSystem) over PostgreSQL: reads, adjustments and actions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
