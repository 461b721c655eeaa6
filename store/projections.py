"""The `complaints` read model: a projection of each case's events, rebuildable at any time.

It holds no personal value in clear: the folded state's are sealed under the case's key like the events',
the number shows only masked (136****8765), and a number's cases are found by the customer's keyed
reference (`customer_ref`), which is dropped once the customer's key is erased.
"""

from __future__ import annotations

import json

import asyncpg
import orjson

from domain.events import parse_event
from domain.masking import mask_msisdn
from domain.personal_data import known_values, seal_document
from domain.state import ComplaintState, fold
from store.pii import CaseKey, PersonalDataVault, default_vault, personal_values_of, unseal_with

UPSERT_PROJECTION = """
INSERT INTO complaints (complaint_id, category, priority, status, assignee, escalation_level, msisdn_masked,
                        sla_due_at, filed_at, updated_at, closed_at, outcome, money_moved_fen,
                        last_seq, last_hash, state, customer_ref)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17)
ON CONFLICT (complaint_id) DO UPDATE SET
    category = EXCLUDED.category, priority = EXCLUDED.priority, status = EXCLUDED.status,
    assignee = EXCLUDED.assignee, escalation_level = EXCLUDED.escalation_level,
    msisdn_masked = EXCLUDED.msisdn_masked, sla_due_at = EXCLUDED.sla_due_at,
    filed_at = EXCLUDED.filed_at, updated_at = EXCLUDED.updated_at, closed_at = EXCLUDED.closed_at,
    outcome = EXCLUDED.outcome, money_moved_fen = EXCLUDED.money_moved_fen,
    last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash, state = EXCLUDED.state,
    customer_ref = EXCLUDED.customer_ref
"""

# Columns a supervisor reads; `state` is the full fold, kept so appends can continue the fold.
PROJECTION_COLUMNS = (
    "complaint_id, category, priority, status, assignee, escalation_level, msisdn_masked, sla_due_at, "
    "filed_at, updated_at, closed_at, outcome, money_moved_fen, last_seq, last_hash"
)


def load_head_state(stored: str | None, key: CaseKey | None) -> ComplaintState | None:
    """The folded state kept in the read model, its personal values opened (or `[erased]`)."""
    if not stored:
        return None
    keys = {key.key_id: key} if key is not None else {}
    return ComplaintState.model_validate(unseal_with(orjson.loads(stored), keys))


def projection_args(state: ComplaintState, last_hash: str, key: CaseKey | None) -> tuple[object, ...]:
    """The arguments of UPSERT_PROJECTION for a case's current state, its personal values sealed."""
    data = state.model_dump(mode="json")
    sealed = seal_document(data, key.seal, known_values(personal_values_of(data))) if key is not None else data
    return (
        state.complaint_id,
        state.category.value,
        state.priority.value,
        state.status.value,
        state.assignee,
        state.escalation_level,
        mask_msisdn(state.msisdn),
        state.sla_due_at,
        state.filed_at,
        state.updated_at,
        state.closed_at,
        state.outcome,
        state.money_moved_fen,
        state.last_seq,
        last_hash,
        orjson.dumps(sealed).decode(),
        key.customer_ref if key is not None and not key.erased else None,
    )


async def rebuild_projections(pool: asyncpg.Pool, vault: PersonalDataVault | None = None) -> int:
    """Drop every projection row and fold them again from the events. Returns the number of cases.

    One transaction: readers see the old rows or the new ones, never a half-built table. Appends
    wait on the row locks meanwhile, which is what we want while the read model is being replaced.
    """
    vault = vault or default_vault()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE complaints IN EXCLUSIVE MODE")
        await conn.execute("DELETE FROM complaints")
        rebuilt = 0
        current_id: str | None = None
        state: ComplaintState | None = None
        key: CaseKey | None = None
        keys: dict[str, CaseKey] = {}
        last_hash = ""
        async for row in conn.cursor(
            "SELECT complaint_id, payload::text AS payload, hash FROM complaint_events ORDER BY complaint_id, seq"
        ):
            if row["complaint_id"] != current_id:
                if state is not None:
                    await conn.execute(UPSERT_PROJECTION, *projection_args(state, last_hash, key))
                    rebuilt += 1
                current_id, state = row["complaint_id"], None
                # Every event of a case is sealed under the one key the case is tied to.
                key = await vault.key_of_case(conn, current_id)
                keys = {key.key_id: key} if key is not None else {}
            state = fold([parse_event(unseal_with(json.loads(row["payload"]), keys))], state)
            last_hash = row["hash"]
        if state is not None:
            await conn.execute(UPSERT_PROJECTION, *projection_args(state, last_hash, key))
            rebuilt += 1
    return rebuilt
