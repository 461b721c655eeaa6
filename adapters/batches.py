"""Batch adjustments in the billing-system sandbox (boss.batch_adjustments and their rows), read side.

A remediation campaign pages through the numbers a batch touched, in number order, each with the
balance-history row the batch wrote for it (cited by its content hash, as every adjustment cites its
records) and the number as the billing system holds it now. Kept apart from adapters/billing.py so the
campaign's reads do not grow that module; the citation is built by its helper, so it hashes the row
exactly as a walk-in case's playbook does.
"""

from __future__ import annotations

import asyncpg

from domain.billing_citations import cite_balance_change
from domain.billing_records import BalanceChange
from domain.remediation import BatchLine
from ports.batches import Batch, BatchMember
from store.rows import model_from_row

_MEMBERS = """
    SELECT * FROM (
        SELECT row_number() OVER (ORDER BY r.msisdn) AS ordinal, r.msisdn, c.name, c.status,
               c.validity_until, c.arrears_fen, h.at, h.kind, h.amount_fen, h.balance_after_fen,
               h.validity_before, h.validity_after, h.reason
          FROM boss.batch_adjustment_rows r
          JOIN boss.balance_history h ON (h.msisdn, h.at, h.kind) = (r.msisdn, r.at, r.kind)
          JOIN boss.customers c ON c.msisdn = r.msisdn
         WHERE r.batch_id = $1
    ) numbered
    WHERE ordinal > $2 ORDER BY ordinal LIMIT $3"""


class PostgresBatches:
    """The batches of the billing system's PostgreSQL schema."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def batch(self, batch_id: str) -> Batch | None:
        """The batch adjustment and how many numbers it touched, or None when there is no such batch."""
        row = await self._pool.fetchrow(
            """SELECT b.batch_id, b.applied_at, b.amount_fen, b.reason, b.description,
                      (SELECT count(*) FROM boss.batch_adjustment_rows r WHERE r.batch_id = b.batch_id) AS numbers
                 FROM boss.batch_adjustments b WHERE b.batch_id = $1""",
            batch_id,
        )
        return Batch(**dict(row)) if row else None

    async def members(self, batch_id: str, after_ordinal: int, limit: int) -> list[BatchMember]:
        """Up to `limit` numbers of the batch after position `after_ordinal`, in number order."""
        rows = await self._pool.fetch(_MEMBERS, batch_id, after_ordinal, limit)
        return [_member(row) for row in rows]


def _member(row: asyncpg.Record) -> BatchMember:
    change = model_from_row(BalanceChange, row)
    line = model_from_row(BatchLine, row)
    return BatchMember(
        ordinal=row["ordinal"],
        customer_name=row["name"],
        line=line,
        citation=cite_balance_change(row["msisdn"], change),
    )
