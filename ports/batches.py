"""The batches port: the billing system's batch adjustments (批量调整) and the numbers each touched.

A remediation campaign reads a batch through `Batches`; adapters/batches.py reads the billing system's
PostgreSQL schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from domain.citations import Citation
from domain.remediation import BatchLine


class Batch(BaseModel):
    model_config = ConfigDict(frozen=True)

    batch_id: str
    applied_at: datetime
    amount_fen: int
    reason: str
    description: str
    numbers: int


class BatchMember(BaseModel):
    """One number of a batch.

    Its position (1-based, in number order), the customer's name, the batch's row with the number as it stands now, and
    the citation of that row.
    """

    model_config = ConfigDict(frozen=True)

    ordinal: int
    customer_name: str
    line: BatchLine
    citation: Citation


class Batches(Protocol):
    """Where a campaign finds a batch and pages through its numbers."""

    async def batch(self, batch_id: str) -> Batch | None:
        """The batch, or None when the billing system has no such batch."""
        ...

    async def members(self, batch_id: str, after_ordinal: int, limit: int) -> list[BatchMember]:
        """Up to `limit` numbers of the batch after position `after_ordinal`, in number order."""
        ...
