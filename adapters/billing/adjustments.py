"""The billing adapter's money and validity adjustments: one ledger row per key, one remedy per charge."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import asyncpg
from pydantic import ValidationError

from adapters.billing.rows import _end_subscription, _fetch_record, _lock_customer
from domain.citations import MONEY_KINDS, Citation, charges, record_hash
from domain.masking import scrub
from domain.money import format_yuan
from domain.validation import describe
from ports.billing_errors import (
    AlreadyRemedied,
    BillingRefused,
    IdempotencyConflict,
    InvalidBillingRequest,
    PriorRemedy,
)
from ports.billing_requests import AdjustmentReceipt, AdjustmentRequest, CitedRecord, LedgerEntry

# Keys are serialised with pg_advisory_xact_lock(class, hashtext(key)); the class keeps them apart
# from the migration and seeding locks, which use the one-argument form.
_KEY_LOCK_CLASS = 1_0086
# Charges are serialised the same way, in their own class: two cases remedying one charge take turns.
_CHARGE_LOCK_CLASS = 1_0087


class BillingAdjustments:
    """Adjustments and the ledger they are written to."""

    _pool: asyncpg.Pool

    async def apply_adjustment(self, request: AdjustmentRequest) -> AdjustmentReceipt:
        """Write the ledger row and its effect on the account in one transaction, once per key.

        The cited records must be the billing system's own, unchanged (their hashes match), and the
        cited charges must be this number's. A charge already remedied by any case raises
        AlreadyRemedied: one remedy per charge, ever, even when two cases ask at the same moment.
        """
        if not isinstance(request, AdjustmentRequest):
            raise InvalidBillingRequest(f"expected an AdjustmentRequest, got {type(request).__name__}")
        try:
            # Checked again: model_construct() or a hand-built copy skips the model's validation.
            request = AdjustmentRequest.model_validate(request.model_dump())
        except ValidationError as error:
            raise InvalidBillingRequest(describe(error)) from None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await _lock_key(conn, request.idempotency_key)
                first = await conn.fetchrow(
                    "SELECT * FROM boss.adjustment_ledger WHERE idempotency_key = $1", request.idempotency_key
                )
                if first is not None:
                    return _replayed_adjustment(first, request)
                await _refuse_key_used_by_action(conn, request.idempotency_key, "apply_adjustment")
                # Locks in one order everywhere (key, customer, charges by key): no two cases wait in a circle.
                customer = await _lock_customer(conn, request.msisdn)
                await _check_citations(conn, request)
                remedied = charges(request.citations) if request.kind in MONEY_KINDS else []
                for charge in remedied:
                    await conn.execute(
                        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _CHARGE_LOCK_CLASS, charge.key
                    )
                prior = await _prior_remedy(conn, [c.key for c in remedied])
                if prior is not None:
                    raise AlreadyRemedied(prior)
                balance, arrears, validity = await _adjust(conn, customer, request)
                row = await conn.fetchrow(
                    """INSERT INTO boss.adjustment_ledger (idempotency_key, complaint_id, msisdn, kind,
                           amount_fen, validity_until, sp_code, reason, balance_after_fen, arrears_after_fen,
                           validity_after, citations)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
                       RETURNING *""",
                    request.idempotency_key,
                    request.complaint_id,
                    request.msisdn,
                    request.kind,
                    request.amount_fen,
                    request.validity_until,
                    request.sp_code,
                    request.reason,
                    balance,
                    arrears,
                    validity,
                    _citations_json(request.citations),
                )
                await conn.executemany(
                    """INSERT INTO boss.remedied_charges (charge_key, ledger_id, complaint_id, remedied_at)
                       VALUES ($1, $2, $3, $4)""",
                    [(c.key, row["id"], request.complaint_id, row["applied_at"]) for c in remedied],
                )
                return _adjustment_receipt(row, effective=True)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "remedied_charges_once":
                raise
            # The advisory locks make this unreachable; the index is the last word all the same.
            async with self._pool.acquire() as conn:
                prior = await _prior_remedy(conn, [c.key for c in charges(request.citations)])
            if prior is None:
                raise
            raise AlreadyRemedied(prior) from None
        except asyncpg.CheckViolationError as error:
            raise InvalidBillingRequest(
                f"the billing system refused the values ({error.constraint_name})"
            ) from None

    async def prior_remedy(self, citations: Sequence[Citation]) -> PriorRemedy | None:
        """The remedy that already covers one of the cited charges, if any (a read; apply_adjustment decides)."""
        async with self._pool.acquire() as conn:
            return await _prior_remedy(conn, [c.key for c in charges(list(citations))])

    async def cited_records(self, citations: Sequence[Citation]) -> list[CitedRecord]:
        """Each cited record as the billing system holds it now, with the hash of its content."""
        found = []
        async with self._pool.acquire() as conn:
            for citation in citations:
                content = await _fetch_record(conn, citation.kind, citation.record_id)
                found.append(
                    CitedRecord(
                        citation=citation,
                        content=content,
                        sha256=None if content is None else record_hash(content),
                    )
                )
        return found

    async def ledger(self, complaint_ids: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The adjustment ledger, oldest first; only these cases' rows when `complaint_ids` is given."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT id, idempotency_key, complaint_id, msisdn, kind, amount_fen, applied_at
                     FROM boss.adjustment_ledger
                    WHERE $1::text[] IS NULL OR complaint_id = ANY($1::text[])
                    ORDER BY id""",
                None if complaint_ids is None else list(complaint_ids),
            )
        return [
            LedgerEntry(
                ledger_id=f"ADJ-{row['id']:06d}",
                idempotency_key=row["idempotency_key"],
                complaint_id=row["complaint_id"],
                msisdn=row["msisdn"],
                kind=row["kind"],
                amount_fen=row["amount_fen"],
                applied_at=row["applied_at"],
            )
            for row in rows
        ]



async def _lock_key(conn: asyncpg.Connection, key: str) -> None:
    # Two calls with one key take turns: the second waits for the first to commit, then finds its result.
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _KEY_LOCK_CLASS, key)


async def _refuse_key_used_by_action(conn: asyncpg.Connection, key: str, action: str) -> None:
    used_by = await conn.fetchval("SELECT action FROM boss.actions WHERE idempotency_key = $1", key)
    if used_by is not None:
        raise IdempotencyConflict(
            f"idempotency key {scrub(key)!r} was already used for {used_by}, not {action}"
        )



async def _adjust(
    conn: asyncpg.Connection, customer: asyncpg.Record, request: AdjustmentRequest
) -> tuple[int, int, date | None]:
    """Apply the request's effect to the locked customer row; return balance, arrears, validity after."""
    number = scrub(request.msisdn)
    balance, arrears, validity = customer["balance_fen"], customer["arrears_fen"], customer["validity_until"]
    status = customer["status"]
    if request.kind in ("refund", "double_refund"):
        if status == "cancelled":
            raise BillingRefused(f"{number} is cancelled: a refund cannot be credited to it")
        balance += request.amount_fen
    elif request.kind == "arrears_waiver":
        if request.amount_fen != arrears:
            raise BillingRefused(
                f"{number} owes {format_yuan(arrears)}, not {format_yuan(request.amount_fen)}:"
                " a waiver waives the arrears as they are"
            )
        arrears = 0
    elif request.kind == "validity_extension":
        assert request.validity_until is not None
        if customer["account_type"] != "prepaid":
            raise BillingRefused(f"{number} is postpaid: it has no balance validity to extend")
        if status == "cancelled":
            raise BillingRefused(f"{number} is cancelled: its validity cannot be extended")
        if validity is not None and request.validity_until < validity:
            raise BillingRefused(
                f"the validity of {number} runs to {validity}: {request.validity_until} would shorten it"
            )
        validity = request.validity_until
    elif request.kind == "sp_unsubscription":
        assert request.sp_code is not None
        # Already ended (say, by the customer's other complaint) is the state asked for: the ledger
        # still records this complaint's request, and the case carries on instead of failing.
        await _end_subscription(conn, request.msisdn, request.sp_code)
    await conn.execute(
        "UPDATE boss.customers SET balance_fen = $2, arrears_fen = $3, validity_until = $4 WHERE msisdn = $1",
        request.msisdn,
        balance,
        arrears,
        validity,
    )
    return balance, arrears, validity


def _citations_json(citations: Sequence[Citation]) -> str:
    return json.dumps([c.model_dump(mode="json") for c in citations], ensure_ascii=False)


async def _check_citations(conn: asyncpg.Connection, request: AdjustmentRequest) -> None:
    """Refuse citations of records the billing system does not hold as cited, or charges of another number."""
    for citation in request.citations:
        content = await _fetch_record(conn, citation.kind, citation.record_id)
        if content is None:
            raise InvalidBillingRequest(f"the billing system holds no {citation.kind} {scrub(citation.record_id)}")
        if record_hash(content) != citation.sha256:
            raise InvalidBillingRequest(
                f"{citation.kind} {scrub(citation.record_id)} is not what was cited: its content hash differs"
            )
        if citation.role == "charge" and content.get("msisdn") != request.msisdn:
            raise InvalidBillingRequest(
                f"{citation.kind} {scrub(citation.record_id)} is not a charge of {scrub(request.msisdn)}"
            )


async def _prior_remedy(conn: asyncpg.Connection, charge_keys: list[str]) -> PriorRemedy | None:
    if not charge_keys:
        return None
    row = await conn.fetchrow(
        """SELECT r.charge_key, r.complaint_id, r.ledger_id, l.applied_at
             FROM boss.remedied_charges r JOIN boss.adjustment_ledger l ON l.id = r.ledger_id
            WHERE r.charge_key = ANY($1::text[]) AND r.released_at IS NULL
            ORDER BY r.id LIMIT 1""",
        charge_keys,
    )
    if row is None:
        return None
    return PriorRemedy(
        charge=row["charge_key"],
        complaint_id=row["complaint_id"],
        ledger_id=f"ADJ-{row['ledger_id']:06d}",
        applied_at=row["applied_at"],
    )


def _adjustment_receipt(row: asyncpg.Record, *, effective: bool) -> AdjustmentReceipt:
    return AdjustmentReceipt(
        ledger_id=f"ADJ-{row['id']:06d}",
        idempotency_key=row["idempotency_key"],
        complaint_id=row["complaint_id"],
        msisdn=row["msisdn"],
        kind=row["kind"],
        amount_fen=row["amount_fen"],
        validity_until=row["validity_until"],
        sp_code=row["sp_code"],
        reason=row["reason"],
        balance_after_fen=row["balance_after_fen"],
        arrears_after_fen=row["arrears_after_fen"],
        validity_after=row["validity_after"],
        applied_at=row["applied_at"],
        effective=effective,
        citations=json.loads(row["citations"]) if isinstance(row["citations"], str) else row["citations"],
    )


def _replayed_adjustment(row: asyncpg.Record, request: AdjustmentRequest) -> AdjustmentReceipt:
    stored = {
        field: row[field]
        for field in ("complaint_id", "msisdn", "kind", "amount_fen", "validity_until", "sp_code", "reason")
    }
    asked = request.model_dump(include=set(stored))
    if stored != asked:
        differing = sorted(field for field in stored if stored[field] != asked[field])
        raise IdempotencyConflict(
            f"idempotency key {scrub(request.idempotency_key)!r} was already used for a different adjustment"
            f" (differs in {', '.join(differing)}): use a new key for a new adjustment"
        )
    return _adjustment_receipt(row, effective=False)


