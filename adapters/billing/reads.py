"""The billing adapter's reads: a customer, their bills, calls, charges, balance, subscriptions, messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import asyncpg

from adapters.billing.rows import _CALL_COLUMNS, _CUSTOMER_SQL, _customer, _require_customer, _unknown
from domain.billing_records import (
    AgentStore,
    BalanceChange,
    BillingPeriod,
    CallRecord,
    Channel,
    Customer,
    DailyCharge,
    MonthlyBill,
    ReceivedSmsSource,
    SpSubscription,
    TariffPlan,
)
from domain.masking import scrub
from ports.billing_checks import valid_channel, valid_code, valid_dates, valid_msisdn, valid_range
from ports.billing_errors import (
    BillingError,
    InvalidBillingRequest,
    UnknownAgentStore,
    UnknownCustomer,
    UnknownTariffPlan,
)


class BillingReads:
    """Reads from the `boss` schema; each takes one pooled connection and changes nothing."""

    _pool: asyncpg.Pool

    async def get_customer(self, msisdn: str) -> Customer:
        """The customer record of the number (UnknownCustomer when there is none)."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_CUSTOMER_SQL, number)
        if row is None:
            raise _unknown(number)
        return _customer(row)

    async def monthly_bills(self, msisdn: str, months: int = 6) -> list[MonthlyBill]:
        """The current (open) bill first, then up to `months` closed bills, newest first."""
        number = valid_msisdn(msisdn)
        if not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 120:
            raise InvalidBillingRequest("months must be a whole number from 0 to 120")
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """(SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND NOT closed)
                   UNION ALL
                   (SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND closed
                     ORDER BY period_start DESC LIMIT $2)
                   ORDER BY period_start DESC""",
                number,
                months,
            )
        return [MonthlyBill(**dict(row)) for row in rows]

    async def call_records(self, msisdn: str, since: datetime, until: datetime) -> list[CallRecord]:
        """The number's own call records that started in [since, until), oldest first."""
        number = valid_msisdn(msisdn)
        start, end = valid_range(since, until)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records
                     WHERE msisdn = $1 AND started_at >= $2 AND started_at < $3
                     ORDER BY started_at, id""",
                number,
                start,
                end,
            )
        return [CallRecord(**dict(row)) for row in rows]

    async def counterpart_call_records(
        self, msisdn: str, other_party: str, since: datetime, until: datetime
    ) -> list[CallRecord]:
        """The other party's own records of its calls with `msisdn` in [since, until), oldest first."""
        number, other = valid_msisdn(msisdn), valid_msisdn(other_party)
        start, end = valid_range(since, until)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM boss.customers WHERE msisdn = $1)", other
            ):
                raise UnknownCustomer(
                    f"{scrub(other)} is not a customer of this billing system:"
                    " its records are kept by its own carrier"
                )
            rows = await conn.fetch(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records
                     WHERE msisdn = $1 AND other_party = $2 AND started_at >= $3 AND started_at < $4
                     ORDER BY started_at, id""",
                other,
                number,
                start,
                end,
            )
        return [CallRecord(**dict(row)) for row in rows]

    async def daily_charges(
        self, msisdn: str, period_start: date, period_end: date, channel: Channel
    ) -> list[DailyCharge]:
        """The charges per day as `channel` shows them, for the days it has, first to last (inclusive)."""
        number = valid_msisdn(msisdn)
        first, last = valid_dates(period_start, period_end)
        shown_by = valid_channel(channel)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT msisdn, channel, day, amount_fen FROM boss.daily_charges
                    WHERE msisdn = $1 AND channel = $2 AND day BETWEEN $3 AND $4 ORDER BY day""",
                number,
                shown_by,
                first,
                last,
            )
        return [DailyCharge(**dict(row)) for row in rows]

    async def reference_numbers(self, exclude: str | Iterable[str] = (), limit: int = 2) -> list[str]:
        """Active numbers the store may test a channel with (the terminal, the web), excluding `exclude`."""
        excluded = [valid_msisdn(exclude)] if isinstance(exclude, str) else [valid_msisdn(value) for value in exclude]
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20:
            raise InvalidBillingRequest("limit must be a whole number from 1 to 20")
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT msisdn FROM boss.customers
                    WHERE is_reference AND status = 'active' AND NOT (msisdn = ANY($1::text[]))
                    ORDER BY msisdn LIMIT $2""",
                excluded,
                limit,
            )
        return [row["msisdn"] for row in rows]

    async def current_period(self, msisdn: str) -> BillingPeriod:
        """The number's current billing period: its first and last day."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            row = await conn.fetchrow("SELECT period_start, anchor_date FROM boss.seed_info")
        if row is None:
            raise BillingError("the billing system has no current period: the sandbox has not been seeded")
        return BillingPeriod(row["period_start"], row["anchor_date"])

    async def balance_history(self, msisdn: str) -> list[BalanceChange]:
        """Every change of the balance, oldest first."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT at, kind, amount_fen, balance_after_fen, validity_before, validity_after, reason
                     FROM boss.balance_history WHERE msisdn = $1 ORDER BY at, id""",
                number,
            )
        return [BalanceChange(**dict(row)) for row in rows]

    async def sp_subscriptions(self, msisdn: str) -> list[SpSubscription]:
        """Every SP subscription, active and ended, oldest first."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT sp_code, service_name, sp_name, monthly_fee_fen, ordered_via, customer_confirmed,
                          delivery_source, subscribed_at, status, ended_at
                     FROM boss.sp_subscriptions WHERE msisdn = $1 ORDER BY subscribed_at, sp_code""",
                number,
            )
        return [SpSubscription(**dict(row)) for row in rows]

    async def received_sms_sources(self, msisdn: str) -> list[ReceivedSmsSource]:
        """Who sent the customer messages, grouped by sender, the most frequent first."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT sender, source_kind, max(sp_code) AS sp_code, count(*) AS message_count,
                          min(received_at) AS first_received_at, max(received_at) AS last_received_at,
                          (array_agg(text ORDER BY received_at DESC))[1] AS sample_text
                     FROM boss.received_sms WHERE msisdn = $1
                    GROUP BY sender, source_kind
                    ORDER BY count(*) DESC, sender""",
                number,
            )
        return [ReceivedSmsSource(**dict(row)) for row in rows]

    async def tariff_plan(self, code: str) -> TariffPlan:
        """The tariff plan of this code (UnknownTariffPlan when there is none)."""
        plan_code = valid_code(code, "tariff plan")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM boss.tariff_plans WHERE code = $1", plan_code)
        if row is None:
            raise UnknownTariffPlan(f"no tariff plan {plan_code} in the billing system")
        return TariffPlan(**dict(row))

    async def agent_store(self, code: str) -> AgentStore:
        """The agent store of this code, which sold numbers (UnknownAgentStore when there is none)."""
        agent_code = valid_code(code, "agent store")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM boss.agent_stores WHERE code = $1", agent_code)
        if row is None:
            raise UnknownAgentStore(f"no agent store {agent_code} in the billing system")
        return AgentStore(**dict(row))

    async def last_usage(self, msisdn: str) -> CallRecord | None:
        """The most recent call on the number, or None if it never made or took one."""
        number = valid_msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            row = await conn.fetchrow(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records WHERE msisdn = $1
                     ORDER BY started_at DESC, id DESC LIMIT 1""",
                number,
            )
        return None if row is None else CallRecord(**dict(row))

