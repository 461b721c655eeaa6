"""Reading the `complaints` read model for the workflow: other open cases like this one."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.pending import Pending, SavesPendingEvents
from domain.cases import Category
from ports.event_store import EventStore
from store.pii import PersonalDataVault, default_vault

# A number with more open cases than this about one thing is a matter for a person, not a list.
MAX_LINKED = 20


class OpenCasesQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str  # the case asking, left out of the answer
    msisdn: str
    category: Category


class CaseLookupActivities(SavesPendingEvents):
    def __init__(self, pool: asyncpg.Pool, store: EventStore, vault: PersonalDataVault | None = None) -> None:
        super().__init__(store)
        self._pool = pool
        self._vault = vault or default_vault()

    @activity.defn
    async def open_cases_like(self, query: OpenCasesQuery, pending: Pending = None) -> list[str]:
        """Open cases of the same number and category, oldest first (a read: safe to retry).

        The read model holds the number only sealed: its cases are found by the customer's keyed
        reference instead. The case's pending events are saved first, so the case asking is in the read model
        before it looks: of two cases of one number filed at once, the second to look finds the first.
        """
        await self._save_pending(pending)
        rows = await self._pool.fetch(
            """SELECT complaint_id FROM complaints
                WHERE customer_ref = $1 AND category = $2 AND status <> 'closed' AND complaint_id <> $3
                ORDER BY filed_at, complaint_id
                LIMIT $4""",
            self._vault.customer_ref(query.msisdn),
            query.category.value,
            query.complaint_id,
            MAX_LINKED,
        )
        return [row["complaint_id"] for row in rows]
