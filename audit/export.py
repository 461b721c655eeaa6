"""One JSON bundle per case for auditors: the domain events with their hash chain, every archived
Temporal history, the chain head and the result of verifying them.

The bundle holds the personal data the events hold (phone and ID numbers) only for a reader whose token
has the `pii:read` scope (`personal_data=True`); everyone else gets it masked (audit.visibility). It is
handed to them, never logged. Everything in it can be re-checked without our code: the rules
are written into the bundle itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from audit.archive_store import PostgresArchiveStore
from audit.verify import UnknownCase, verify_case
from audit.visibility import masked_bundle
from domain.hashing import GENESIS_HASH

BUNDLE_FORMAT = "complaint-audit-bundle"
BUNDLE_VERSION = 1

HASH_RULES = {
    "event_hash": (
        "sha256 over the ASCII previous hash, a newline, and the UTF-8 of the event as JSON with sorted keys, "
        "separators (',', ':') and non-ASCII characters kept as they are; hex-encoded"
    ),
    "first_prev_hash": GENESIS_HASH,
    "history_sha256": "sha256 over the history as JSON with sorted keys and separators (',', ':'), hex-encoded",
    "temporal_history": "WorkflowHistory.to_json() of the run: temporal.api.history.v1.History in protobuf JSON",
    "record_sha256": (
        "sha256 over the UTF-8 of the cited billing record as JSON with sorted keys, separators (',', ':'), "
        "non-ASCII characters kept, dates and times as ISO 8601 text; hex-encoded (`verify --deep` re-checks it)"
    ),
}


async def build_bundle(
    pool: asyncpg.Pool, complaint_id: str, *, exported_at: datetime, personal_data: bool = True
) -> dict[str, Any]:
    """The case's audit bundle as a JSON-able dict; UnknownCase if the store has nothing of it.

    Without `personal_data` (a reader lacking the pii:read scope) the personal fields are masked.
    """
    bundle = await _full_bundle(pool, complaint_id, exported_at=exported_at)
    return bundle if personal_data else masked_bundle(bundle)


async def _full_bundle(pool: asyncpg.Pool, complaint_id: str, *, exported_at: datetime) -> dict[str, Any]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT seq, type, version, occurred_at, actor_id, actor_role, payload::text AS payload,
                      prev_hash, hash, recorded_at
               FROM complaint_events WHERE complaint_id = $1 ORDER BY seq""",
            complaint_id,
        )
    runs = await PostgresArchiveStore(pool).runs(complaint_id, with_history=True)
    if not rows and not runs:
        raise UnknownCase(f"no case {complaint_id} in the event store")
    report = await verify_case(pool, complaint_id)
    events = [
        {
            "seq": row["seq"],
            "type": row["type"],
            "version": row["version"],
            "occurred_at": row["occurred_at"].isoformat(),
            "recorded_at": row["recorded_at"].isoformat(),
            "actor_id": row["actor_id"],
            "actor_role": row["actor_role"],
            "prev_hash": row["prev_hash"],
            "hash": row["hash"],
            "event": json.loads(row["payload"]),
        }
        for row in rows
    ]
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "complaint_id": complaint_id,
        "personal_data": "clear",
        "exported_at": exported_at.isoformat(),
        "hash_rules": HASH_RULES,
        "chain_head": {
            "seq": rows[-1]["seq"] if rows else 0,
            "hash": rows[-1]["hash"] if rows else GENESIS_HASH,
        },
        "verification": {
            "intact": report.ok,
            "events_checked": report.events,
            "runs_checked": report.runs,
            "chain_breaks": [{"seq": b.seq, "problem": b.problem} for b in report.breaks],
            "archive_problems": [{"run_id": p.run_id, "problem": p.problem} for p in report.archive_problems],
        },
        "events": events,
        "evidence": _evidence([event["event"] for event in events]),
        "temporal_runs": [
            {
                "workflow_id": run.complaint_id,
                "run_id": run.run_id,
                "workflow_type": run.workflow_type,
                "status": run.status,
                "started_at": run.started_at.isoformat(),
                "closed_at": run.closed_at.isoformat(),
                "continued_from_run_id": run.continued_from_run_id,
                "archived_at": run.archived_at.isoformat() if run.archived_at else None,
                "history_length": run.history_length,
                "history_sha256": run.history_sha256,
                "history": run.history,
            }
            for run in runs
        ],
    }


def _evidence(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each proposed and applied adjustment with the billing records it cites (kind, id, role, sha256)."""
    return [
        {
            "seq": data["seq"],
            "type": data["type"],
            "adjustment_id": data["adjustment_id"],
            "kind": data["kind"],
            "amount_fen": data["amount_fen"],
            "ledger_id": data.get("ledger_id"),
            "citations": data.get("citations") or [],
        }
        for data in payloads
        if data.get("type") in ("AdjustmentProposed", "AdjustmentApplied")
    ]
