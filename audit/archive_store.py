"""The archive of closed cases' Temporal histories in PostgreSQL (table temporal_run_archive).

Temporal keeps a workflow's history only for the namespace's retention period; this table keeps
every run of every closed case for as long as the auditors need it. Rows are written once: the
database refuses UPDATE and DELETE, and each row carries a digest of its history so a change shows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from store.rows import model_from_row


def canonical_history_json(history: dict[str, Any]) -> str:
    """The history as JSON with sorted keys and no insignificant whitespace: equal content, equal text."""
    return json.dumps(history, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def history_digest(history: dict[str, Any]) -> str:
    """sha256 of the history's canonical JSON, hex-encoded: what `history_sha256` holds."""
    return hashlib.sha256(canonical_history_json(history).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ArchivedRun:
    """One archived run of a case's workflow; `history` is None when listed without it."""

    complaint_id: str
    run_id: str
    workflow_type: str
    status: str
    started_at: datetime
    closed_at: datetime
    continued_from_run_id: str | None
    history_length: int
    history_sha256: str
    archived_at: datetime | None = None
    history: dict[str, Any] | None = None


_SUMMARY_COLUMNS = (
    "complaint_id, run_id, workflow_type, status, started_at, closed_at, continued_from_run_id, "
    "history_length, history_sha256, archived_at"
)


def _from_row(row: asyncpg.Record, *, with_history: bool) -> ArchivedRun:
    return model_from_row(ArchivedRun, row, history=json.loads(row["history"]) if with_history else None)


class PostgresArchiveStore:
    """Writes archived runs once and reads them back, oldest run first."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, run: ArchivedRun) -> bool:
        """Store the run with its history; False (and nothing written) when it is archived already."""
        if run.history is None:
            raise ValueError(f"run {run.run_id} of {run.complaint_id} has no history to archive")
        status = await self._pool.execute(
            """INSERT INTO temporal_run_archive (complaint_id, run_id, workflow_type, status, started_at,
                   closed_at, continued_from_run_id, history_length, history, history_sha256)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
               ON CONFLICT (complaint_id, run_id) DO NOTHING""",
            run.complaint_id,
            run.run_id,
            run.workflow_type,
            run.status,
            run.started_at,
            run.closed_at,
            run.continued_from_run_id,
            run.history_length,
            json.dumps(run.history, ensure_ascii=False),
            run.history_sha256,
        )
        return status == "INSERT 0 1"

    async def archived_run_ids(self, complaint_id: str) -> set[str]:
        """The ids of the case's runs already archived."""
        rows = await self._pool.fetch(
            "SELECT run_id FROM temporal_run_archive WHERE complaint_id = $1", complaint_id
        )
        return {row["run_id"] for row in rows}

    async def runs(self, complaint_id: str, *, with_history: bool = False) -> list[ArchivedRun]:
        """The case's archived runs in the order they started."""
        columns = _SUMMARY_COLUMNS + (", history::text AS history" if with_history else "")
        rows = await self._pool.fetch(
            f"SELECT {columns} FROM temporal_run_archive WHERE complaint_id = $1 ORDER BY started_at, run_id",
            complaint_id,
        )
        return [_from_row(row, with_history=with_history) for row in rows]
