"""The billing-system (BOSS) sandbox's seeder: every story's rows (stories/<category>.py), in PostgreSQL.

Every story is anchored to the date of the first seeding (the day "the customer came in"), kept in
boss.seed_info so that seeding again later neither moves the stories nor changes anything else.
`rearm_stories` puts the stories' mutable state (notices, subscriptions, balances, status) back as
seeded, so the demo can run again; money and audit records (ledger, payments, reports, incidents)
are never touched.

The data itself is built by the pure `build_seed(anchor)` from the story modules; the two coroutines
only write it. Only a sandbox database is ever seeded: the worker calls `seed_boss` only on the
embedded PostgreSQL (see worker.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from sandboxes.boss_rows import BossRows, current_period_start
from stories import story_modules
from stories.catalogue import PLANS

_SEED_LOCK_ID = 7_210_087  # pg_advisory_xact_lock: two seeders at once take turns


@dataclass(frozen=True)
class BossSeed(BossRows):
    """Every row of the sandbox, with the date the stories are anchored to."""

    anchor: date = date.min
    period_start: date = date.min


def story_msisdns() -> dict[str, str]:
    """The number each category's demo complaint is about, keyed by category (a str enum: either key works)."""
    return {module.CATEGORY: module.CUSTOMER.msisdn for module in story_modules()}


@functools.lru_cache(maxsize=4)  # pure and immutable; rearming (every test) would build 2,000 numbers again
def build_seed(anchor: date) -> BossSeed:
    """Every row of the sandbox for stories anchored to `anchor`: pure, the same for the same date."""
    rows = BossRows(plans=PLANS)
    for module in story_modules():
        rows += module.boss_rows(anchor)
    return BossSeed(anchor=anchor, period_start=current_period_start(anchor), **vars(rows))


# --- writing it -----------------------------------------------------------------------------------

_INSERTS: tuple[tuple[str, str], ...] = (
    (
        "plans",
        """INSERT INTO boss.tariff_plans (code, name, account_type, monthly_fee_fen, included_minutes,
               per_minute_fen, long_distance_per_minute_fen, sms_fen, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
    ),
    (
        "agents",
        """INSERT INTO boss.agent_stores (code, name, contact_phone, address)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
    ),
    (
        "customers",
        """INSERT INTO boss.customers (msisdn, name, id_number, status, account_type, brand, plan_code,
               sales_channel, agent_code, opened_at, balance_fen, validity_until, cancelled_at, arrears_fen,
               is_reference, remark)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT DO NOTHING""",
    ),
    (
        "notices",
        """INSERT INTO boss.number_change_notices (msisdn, old_msisdn, old_carrier, active, created_at,
               cancelled_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
    ),
    (
        "bills",
        """INSERT INTO boss.monthly_bills (msisdn, period_start, period_end, total_fen, closed)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
    ),
    (
        "calls",
        """INSERT INTO boss.call_records (msisdn, other_party, direction, call_type, started_at,
               duration_seconds, charge_fen)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
    ),
    (
        "daily_charges",
        """INSERT INTO boss.daily_charges (msisdn, channel, day, amount_fen)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
    ),
    (
        "balance_changes",
        """INSERT INTO boss.balance_history (msisdn, at, kind, amount_fen, balance_after_fen,
               validity_before, validity_after, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
    ),
    (
        "subscriptions",
        """INSERT INTO boss.sp_subscriptions (msisdn, sp_code, service_name, sp_name, monthly_fee_fen,
               ordered_via, customer_confirmed, delivery_source, subscribed_at, status, ended_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING""",
    ),
    (
        "sms",
        """INSERT INTO boss.received_sms (msisdn, sender, source_kind, sp_code, received_at, text)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
    ),
    (
        "batches",
        """INSERT INTO boss.batch_adjustments (batch_id, applied_at, amount_fen, reason, description)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
    ),
    (
        "batch_rows",
        """INSERT INTO boss.batch_adjustment_rows (batch_id, msisdn, at)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING""",
    ),
)


async def _anchor(conn: asyncpg.Connection) -> date | None:
    value: date | None = await conn.fetchval("SELECT anchor_date FROM boss.seed_info")
    return value


async def seed_boss(conn: asyncpg.Connection, today: date) -> None:
    """Seed the stories anchored to `today`, or, once seeded, to the first seeding's date.

    Idempotent: rows already there are left exactly as they are (mutable state included: putting
    it back is `rearm_stories`' job), so a second call changes nothing. Needs the migrations applied.
    """
    if isinstance(today, datetime) or not isinstance(today, date):
        raise TypeError(f"seed_boss wants a date, not {type(today).__name__}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEED_LOCK_ID)
        await conn.execute(
            "INSERT INTO boss.seed_info (anchor_date, period_start) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            today,
            current_period_start(today),
        )
        anchor = await _anchor(conn)
        assert anchor is not None
        await write_rows(conn, build_seed(anchor))


async def write_rows(conn: asyncpg.Connection, rows: BossRows) -> None:
    """Insert `rows` table by table, in an order the foreign keys accept; rows already there stay as they are.

    The seeder's one writer; tests use it too, to add a small batch of their own (sandboxes/batch_population.py).
    """
    for field_name, sql in _INSERTS:
        table_rows = getattr(rows, field_name)
        if table_rows:
            await conn.executemany(sql, table_rows)


async def rearm_stories(conn: asyncpg.Connection) -> None:
    """Put every story's mutable state back as seeded, so the demo can run again.

    Customers get their seeded status, plan, balance, validity and arrears back; number-change
    notices and SP subscriptions are restored; web-SMS blocks are lifted (kept, with their lift time).
    Ledger, payments, spam reports, incidents and the action log are money and audit records: never
    touched. Remedied charges are released (kept, with their release time), so a story's overcharge
    can be refunded again when the story is told again. Raises RuntimeError if the sandbox was never seeded.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEED_LOCK_ID)
        anchor = await _anchor(conn)
        if anchor is None:
            raise RuntimeError("the billing sandbox has not been seeded: run seed_boss first")
        seed = build_seed(anchor)
        # One statement for every customer (the seed's batch alone has 2,000), touching only those changed.
        await conn.execute(
            """UPDATE boss.customers c
                  SET status = s.status, plan_code = s.plan_code, balance_fen = s.balance_fen,
                      validity_until = s.validity_until, cancelled_at = s.cancelled_at, arrears_fen = s.arrears_fen
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::date[], $6::timestamptz[],
                             $7::bigint[])
                      AS s (msisdn, status, plan_code, balance_fen, validity_until, cancelled_at, arrears_fen)
                WHERE c.msisdn = s.msisdn
                  AND (c.status, c.plan_code, c.balance_fen, c.validity_until, c.cancelled_at, c.arrears_fen)
                      IS DISTINCT FROM
                      (s.status, s.plan_code, s.balance_fen, s.validity_until, s.cancelled_at, s.arrears_fen)""",
            [c.msisdn for c in seed.customers],
            [c.status for c in seed.customers],
            [c.plan_code for c in seed.customers],
            [c.balance_fen for c in seed.customers],
            [c.validity_until for c in seed.customers],
            [c.cancelled_at for c in seed.customers],
            [c.arrears_fen for c in seed.customers],
        )
        # Deactivate first so re-activating the seeded notice never meets the one-active-notice index.
        msisdns = [c.msisdn for c in seed.customers]
        await conn.execute(
            """UPDATE boss.number_change_notices
                  SET active = false, cancelled_at = coalesce(cancelled_at, now())
                WHERE active AND msisdn = ANY($1::text[])""",
            msisdns,
        )
        await conn.executemany(
            """UPDATE boss.number_change_notices SET active = $3, cancelled_at = $4
                WHERE msisdn = $1 AND old_msisdn = $2""",
            [(n.msisdn, n.old_msisdn, n.active, n.cancelled_at) for n in seed.notices],
        )
        await conn.executemany(
            "UPDATE boss.sp_subscriptions SET status = $3, ended_at = $4 WHERE msisdn = $1 AND sp_code = $2",
            [(s.msisdn, s.sp_code, s.status, s.ended_at) for s in seed.subscriptions],
        )
        await conn.execute(
            "UPDATE boss.sms_blocks SET lifted_at = now()"
            " WHERE lifted_at IS NULL AND msisdn = ANY($1::text[])",
            msisdns,
        )
        await conn.execute(
            """UPDATE boss.remedied_charges SET released_at = now(), release_reason = 'stories rearmed'
                WHERE released_at IS NULL"""
        )
