"""Rows of the `boss` schema as the billing port's values, and the lookups every adapter part shares."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from domain.billing_citations import balance_change_record, sale_record, sp_order_record
from domain.billing_records import BalanceChange, CallRecord, Customer, DailyCharge, MonthlyBill, SpSubscription
from domain.citations import RecordKind
from domain.masking import scrub
from ports.billing_errors import UnknownCustomer, UnknownSubscription
from store.rows import model_from_row

_CUSTOMER_SQL = """
    SELECT c.*, n.old_msisdn AS notice_old_msisdn,
           EXISTS (SELECT 1 FROM boss.sms_blocks b
                    WHERE b.msisdn = c.msisdn AND b.kind = 'web_originated' AND b.lifted_at IS NULL)
               AS web_sms_blocked
      FROM boss.customers c
      LEFT JOIN boss.number_change_notices n ON n.msisdn = c.msisdn AND n.active
     WHERE c.msisdn = $1
"""

_CALL_COLUMNS = "id, msisdn, other_party, direction, call_type, started_at, duration_seconds, charge_fen"



async def _fetch_record(conn: asyncpg.Connection, kind: RecordKind, record_id: str) -> dict[str, Any] | None:
    """The content of a citable record, exactly as the cite_* helpers hash it; None if there is none."""
    parts = record_id.split("/")
    try:
        if kind == "cdr":
            row = await conn.fetchrow(f"SELECT {_CALL_COLUMNS} FROM boss.call_records WHERE id = $1", int(record_id))
            return None if row is None else CallRecord(**dict(row)).model_dump(mode="json")
        if kind == "bill_line" and len(parts) == 2:
            row = await conn.fetchrow(
                "SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND period_start = $2",
                parts[0],
                date.fromisoformat(parts[1]),
            )
            return None if row is None else MonthlyBill(**dict(row)).model_dump(mode="json")
        if kind == "daily_charge" and len(parts) == 3:
            row = await conn.fetchrow(
                """SELECT msisdn, channel, day, amount_fen FROM boss.daily_charges
                    WHERE msisdn = $1 AND channel = $2 AND day = $3""",
                parts[0],
                parts[1],
                date.fromisoformat(parts[2]),
            )
            return None if row is None else DailyCharge(**dict(row)).model_dump(mode="json")
        if kind == "sale" and len(parts) == 2:
            row = await conn.fetchrow(_CUSTOMER_SQL, parts[0])
            if row is None:
                return None
            record = sale_record(_customer(row))
            # A number sold again is another sale: the cited one is no longer on record.
            return record if record["opened_at"] == parts[1] else None
        if kind == "balance_change" and len(parts) == 3:
            row = await conn.fetchrow(
                """SELECT at, kind, amount_fen, balance_after_fen, validity_before, validity_after, reason
                     FROM boss.balance_history WHERE msisdn = $1 AND at = $2 AND kind = $3""",
                parts[0],
                datetime.fromisoformat(parts[1]),
                parts[2],
            )
            return None if row is None else balance_change_record(parts[0], BalanceChange(**dict(row)))
        if kind == "sp_order" and len(parts) == 2:
            row = await conn.fetchrow(
                """SELECT sp_code, service_name, sp_name, monthly_fee_fen, ordered_via, customer_confirmed,
                          delivery_source, subscribed_at, status, ended_at
                     FROM boss.sp_subscriptions WHERE msisdn = $1 AND sp_code = $2""",
                parts[0],
                parts[1],
            )
            return None if row is None else sp_order_record(parts[0], SpSubscription(**dict(row)))
    except ValueError:
        pass  # a malformed id names no record
    return None



def _unknown(msisdn: str) -> UnknownCustomer:
    return UnknownCustomer(f"no customer with number {scrub(msisdn)} in the billing system")


async def _require_customer(conn: asyncpg.Connection, msisdn: str) -> None:
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM boss.customers WHERE msisdn = $1)", msisdn):
        raise _unknown(msisdn)


async def _lock_customer(conn: asyncpg.Connection, msisdn: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM boss.customers WHERE msisdn = $1 FOR UPDATE", msisdn)
    if row is None:
        raise _unknown(msisdn)
    return row



async def _end_subscription(conn: asyncpg.Connection, msisdn: str, sp_code: str) -> datetime | None:
    """End an active subscription and return when; None if it had already ended."""
    ended: datetime | None = await conn.fetchval(
        """UPDATE boss.sp_subscriptions SET status = 'unsubscribed', ended_at = now()
            WHERE msisdn = $1 AND sp_code = $2 AND status = 'active' RETURNING ended_at""",
        msisdn,
        sp_code,
    )
    if ended is None and not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM boss.sp_subscriptions WHERE msisdn = $1 AND sp_code = $2)",
        msisdn,
        sp_code,
    ):
        raise UnknownSubscription(f"{scrub(msisdn)} has no subscription to {sp_code}")
    return ended



def _customer(row: asyncpg.Record) -> Customer:
    notice_old_msisdn = row["notice_old_msisdn"]
    return model_from_row(
        Customer,
        row,
        number_change_notice_active=notice_old_msisdn is not None,
        number_change_notice_old_msisdn=notice_old_msisdn,
    )
