"""Idempotency-Key for filing over HTTP: one key, one body, one ticket, kept in PostgreSQL.

The ticket id is chosen when the key is first claimed and stored with it, so a retry after a lost response
(or after a crash between claiming and filing) files the same case id again, which the workflow id makes a
no-op. A different body under a taken key is a conflict: the caller reused a key by mistake.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

MAX_KEY_LENGTH = 200
# Letters only, so a ticket id never holds a run of digits that could pass for a phone or ID number.
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def new_ticket_id() -> str:
    """A fresh ticket (case) id: `TT-` and 16 random letters."""
    return "TT-" + "".join(secrets.choice(_LETTERS) for _ in range(16))


def request_digest(body: dict[str, Any]) -> str:
    """The body's hash, independent of key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class KeyReused(ValueError):
    """The key was used before with a different body."""


@dataclass(frozen=True)
class Claim:
    complaint_id: str
    first: bool  # this call claimed the key; False: a retry of an earlier call


async def claim_key(pool: asyncpg.Pool, caller: str, key: str, digest: str) -> Claim:
    """Claim `key` for `caller` and this body, or find the ticket an earlier claim chose. Raises KeyReused."""
    candidate = new_ticket_id()
    async with pool.acquire() as conn:
        inserted = await conn.fetchval(
            """INSERT INTO api_idempotency_keys (caller, idempotency_key, request_sha256, complaint_id)
               VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING complaint_id""",
            caller, key, digest, candidate,
        )
        if inserted is not None:
            return Claim(complaint_id=str(inserted), first=True)
        row = await conn.fetchrow(
            "SELECT request_sha256, complaint_id FROM api_idempotency_keys WHERE caller = $1 AND idempotency_key = $2",
            caller, key,
        )
    assert row is not None  # keys are never deleted
    if row["request_sha256"] != digest:
        raise KeyReused(
            f"Idempotency-Key {key!r} was used before with a different body (ticket {row['complaint_id']}): "
            "use a new key for a new ticket"
        )
    return Claim(complaint_id=str(row["complaint_id"]), first=False)
