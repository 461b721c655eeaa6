"""One JSON bundle per case for auditors.

The domain events with their hash chain, every archived Temporal history, the chain head and the result of verifying
them.

Each event comes twice: `stored`, exactly as the event store holds it (personal values sealed under
the customer's key), which is what the hash chain covers, and `event`, the same with those values
opened: in clear, or masked (`personal_data="masked"`: `starter export --masked`, or a reader whose
token lacks the `pii:read` scope), or
`[erased]` once the customer's key is destroyed. Everything in it can be re-checked without our code:
the rules are written into the bundle itself.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import asyncpg

from audit.archive_store import PostgresArchiveStore
from audit.verify import UnknownCase, verify_case
from codec.aes_gcm import KeyRing
from domain.events import Event, parse_event
from domain.hashing import GENESIS_HASH
from domain.personal_data import known_values, mask_personal
from store.event_store import PostgresEventStore
from store.pii import PersonalDataVault, default_vault, personal_values_of

PersonalDataView = Literal["clear", "masked"]

BUNDLE_FORMAT = "complaint-audit-bundle"
BUNDLE_VERSION = 1

HASH_RULES = {
    "event_hash": (
        "sha256 over the ASCII previous hash, a newline, and the UTF-8 of the event's `stored` form as JSON "
        "with sorted keys, separators (',', ':') and non-ASCII characters kept as they are; hex-encoded"
    ),
    "sealed_values": (
        "a stored string 'pii:v1:<key id>:<base64>' is a personal value sealed with AES-256-GCM under the "
        "customer's key (12-byte nonce first, the key id as associated data); `event` shows it opened, masked, "
        "or '[erased]' once the key was destroyed"
    ),
    "first_prev_hash": GENESIS_HASH,
    "history_sha256": "sha256 over the history as JSON with sorted keys and separators (',', ':'), hex-encoded",
    "temporal_history": "WorkflowHistory.to_json() of the run: temporal.api.history.v1.History in protobuf JSON",
    "record_sha256": (
        "sha256 over the UTF-8 of the cited billing record as JSON with sorted keys, separators (',', ':'), "
        "non-ASCII characters kept, dates and times as ISO 8601 text; hex-encoded (`verify --deep` re-checks it)"
    ),
}


def masked_events(events: list[Event]) -> list[Event]:
    """The events with their personal values masked (136****8765, names as ***).

    What a reader without the right to see personal data gets from `history` or `show --as-of`. The events stay valid
    models.
    """
    opened = [event.model_dump(mode="json") for event in events]
    known = known_values(v for data in opened for v in personal_values_of(data))
    return [parse_event(mask_personal(data, known)) for data in opened]


async def build_bundle(
    pool: asyncpg.Pool,
    complaint_id: str,
    *,
    exported_at: datetime,
    vault: PersonalDataVault | None = None,
    personal_data: PersonalDataView = "clear",
    keys: KeyRing | None = None,
) -> dict[str, Any]:
    """The case's audit bundle as a JSON-able dict; UnknownCase if the store has nothing of it.

    `personal_data` says how `event` shows the personal values: in clear, or masked. The payload `keys`
    decrypt the archived histories for the check only; the bundle keeps them encrypted as archived.
    """
    vault = vault or default_vault()
    chain = await PostgresEventStore(pool, vault).chain(complaint_id)
    links = chain.links
    stored = [json.loads(link.payload) for link in links]
    opened = [link.opened or {} for link in links]
    if personal_data == "masked":
        known = known_values(v for data in opened for v in personal_values_of(data))
        opened = [mask_personal(data, known) for data in opened]
    runs = await PostgresArchiveStore(pool).runs(complaint_id, with_history=True)
    if not links and not runs:
        raise UnknownCase(f"no case {complaint_id} in the event store")
    report = await verify_case(pool, complaint_id, vault=vault, keys=keys)
    events = [
        {
            "seq": link.seq,
            "type": link.type,
            "version": link.version,
            "occurred_at": link.occurred_at.isoformat(),
            "recorded_at": link.recorded_at.isoformat(),
            "actor_id": link.actor_id,
            "actor_role": link.actor_role,
            "prev_hash": link.prev_hash,
            "hash": link.hash,
            "event": data,
            "stored": sealed,
        }
        for link, sealed, data in zip(links, stored, opened, strict=True)
    ]
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "complaint_id": complaint_id,
        "exported_at": exported_at.isoformat(),
        "personal_data": personal_data,
        "hash_rules": HASH_RULES,
        # The head as the store keeps it (chain_heads), which verification compared the chain with.
        "chain_head": {
            "seq": chain.head.last_seq if chain.head else 0,
            "hash": chain.head.last_hash if chain.head else GENESIS_HASH,
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
