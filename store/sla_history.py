"""The SLA-relevant events of many cases at once, for what-if and the compliance report. Read-only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from domain.cases import Category
from domain.events import Event, parse_event
from store.pii import PersonalDataVault

# What the clocks are folded from: the filing (rules, category, priority) and every clock and status change.
SLA_EVENT_TYPES = (
    "ComplaintFiled", "SlaClockStarted", "SlaClockStopped", "SlaClockPaused", "SlaClockResumed",
    "SlaWarned", "SlaBreached", "CaseEscalated", "ComplaintResolved", "ComplaintClosed", "ComplaintReopened",
    "SlaRecalculated", "ComplaintRejected",
)


async def load_sla_histories(
    pool: asyncpg.Pool,
    vault: PersonalDataVault,
    *,
    since: datetime | None = None,
    category: Category | None = None,
) -> list[Sequence[Event]]:
    """Each case filed at or after `since` (of `category`), as its SLA events in order."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT e.complaint_id, e.payload::text AS payload
                 FROM complaint_events e
                 JOIN complaint_events f ON f.complaint_id = e.complaint_id AND f.seq = 1
                WHERE e.type = ANY($1::text[])
                  AND ($2::timestamptz IS NULL OR f.occurred_at >= $2)
                  AND ($3::text IS NULL OR f.payload->>'category' = $3)
                ORDER BY e.complaint_id, e.seq""",
            list(SLA_EVENT_TYPES),
            since,
            category.value if category else None,
        )
        opened = await vault.unseal(conn, [json.loads(row["payload"]) for row in rows])
    histories: dict[str, list[Event]] = {}
    for row, data in zip(rows, opened, strict=True):
        histories.setdefault(row["complaint_id"], []).append(parse_event(data))
    return list(histories.values())
