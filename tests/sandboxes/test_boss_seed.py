"""The BOSS sandbox's seed: idempotent, anchored once, rearmable, and true to the seed's figures
whatever day it is first run on."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from domain.clock import local_day
from domain.identity import parse_id_number
from domain.msisdn import Carrier, carrier_of
from runtime.settings import Settings
from sandboxes.boss_rows import BILLING_PERIOD_DAYS_SO_FAR, current_period_start, period_bounds
from sandboxes.boss_seed import build_seed, rearm_stories, seed_boss, story_msisdns
from store.migrate import migrate
from stories.arrears_dispute import ARREARS_CUSTOMER, ARREARS_FEN
from stories.bill_discrepancy import BILL_DISCREPANCY_CUSTOMER, DISCREPANCY_BILLING_FEN, DISCREPANCY_TERMINAL_FEN
from stories.billing_spike import BILLING_SPIKE_COUNTERPART, BILLING_SPIKE_CUSTOMER
from stories.catalogue import PLANS
from stories.people import STRANGER_ID_NUMBER
from stories.validity_shortened import VALIDITY_CUSTOMER
from worker import dependencies, seeds_sandbox

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ANCHOR = date(2024, 3, 18)
# Month ends, a leap day, a year boundary: where calendar arithmetic goes wrong.
AWKWARD_ANCHORS = [
    date(2024, 3, 31),
    date(2024, 2, 29),
    date(2025, 1, 5),
    date(2023, 12, 31),
    date(2024, 5, 17),
]

BOSS_TABLES = (
    "seed_info",
    "tariff_plans",
    "agent_stores",
    "customers",
    "number_change_notices",
    "monthly_bills",
    "call_records",
    "daily_charges",
    "balance_history",
    "sp_subscriptions",
    "received_sms",
    "sms_blocks",
    "actions",
    "adjustment_ledger",
    "payments",
    "spam_reports",
    "incidents",
)


@pytest_asyncio.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh database of its own (boss_test_<random>), migrated and unseeded; dropped afterwards."""
    name = f"boss_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
        connection = await asyncpg.connect(url)
        try:
            await migrate(connection)
        finally:
            await connection.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every boss table, in a stable order."""
    tables = {}
    for table in BOSS_TABLES:
        rows = await conn.fetch(f"SELECT * FROM boss.{table}")
        tables[table] = sorted((tuple(row.values()) for row in rows), key=repr)
    return tables


# --- seeding ---------------------------------------------------------------------------------------


async def test_seeding_twice_changes_nothing(conn: asyncpg.Connection) -> None:
    await seed_boss(conn, ANCHOR)
    first = await snapshot(conn)
    # A later day's seeding (a restart) neither re-anchors nor duplicates anything.
    await seed_boss(conn, ANCHOR + timedelta(days=40))
    second = await snapshot(conn)

    assert {table: len(rows) for table, rows in second.items()} == {
        table: len(rows) for table, rows in first.items()
    }
    assert second == first
    assert await conn.fetchval("SELECT anchor_date FROM boss.seed_info") == ANCHOR
    assert len(first["customers"]) == len(build_seed(ANCHOR).customers) >= 7
    assert len(first["call_records"]) == len(build_seed(ANCHOR).calls)


async def test_seeding_again_keeps_changes_and_rearming_undoes_them(conn: asyncpg.Connection) -> None:
    await seed_boss(conn, ANCHOR)
    seeded = await snapshot(conn)
    spam = story_msisdns()["spam_sms"]
    await conn.execute(
        "UPDATE boss.customers SET balance_fen = balance_fen + 999, status = 'suspended', cancelled_at = NULL"
    )
    await conn.execute("UPDATE boss.number_change_notices SET active = false, cancelled_at = now()")
    await conn.execute("UPDATE boss.sp_subscriptions SET status = 'unsubscribed', ended_at = now()")
    records = [
        """INSERT INTO boss.sms_blocks (idempotency_key, msisdn, kind)
           VALUES ('k-block', $1, 'web_originated')""",
        """INSERT INTO boss.adjustment_ledger (idempotency_key, complaint_id, msisdn, kind, amount_fen,
               reason, balance_after_fen, arrears_after_fen)
           VALUES ('k-refund', 'CMP-1', $1, 'refund', 999, '退款', 0, 0)""",
        """INSERT INTO boss.payments (idempotency_key, msisdn, purpose, amount_fen)
           VALUES ('k-pay', $1, 'arrears_settlement', 1)""",
        """INSERT INTO boss.incidents (idempotency_key, channel, description, msisdn)
           VALUES ('k-inc', 'terminal', '故障', $1)""",
        """INSERT INTO boss.spam_reports (idempotency_key, msisdn, senders)
           VALUES ('k-sr', $1, '{13512340001}')""",
    ]
    for sql in records:
        await conn.execute(sql, spam)

    await seed_boss(conn, ANCHOR)
    assert await conn.fetchval("SELECT count(*) FROM boss.customers WHERE status = 'suspended'") == len(
        seeded["customers"]
    )

    await rearm_stories(conn)
    rearmed = await snapshot(conn)
    for table in (
        "customers",
        "number_change_notices",
        "sp_subscriptions",
        "call_records",
        "balance_history",
    ):
        assert rearmed[table] == seeded[table], table
    for table in ("adjustment_ledger", "payments", "incidents", "spam_reports"):
        assert len(rearmed[table]) == 1, table
    block = await conn.fetchrow("SELECT lifted_at FROM boss.sms_blocks WHERE idempotency_key = 'k-block'")
    assert block is not None and block["lifted_at"] is not None  # lifted, and the row kept


async def test_rearm_before_seeding_says_so(conn: asyncpg.Connection) -> None:
    with pytest.raises(RuntimeError, match="seed_boss"):
        await rearm_stories(conn)


async def test_two_seeders_at_once_seed_once(conn: asyncpg.Connection, database_url: str) -> None:
    other = await asyncpg.connect(database_url)
    try:
        await asyncio.gather(seed_boss(conn, ANCHOR), seed_boss(other, ANCHOR + timedelta(days=1)))
    finally:
        await other.close()

    counts = {table: len(rows) for table, rows in (await snapshot(conn)).items()}
    assert counts["seed_info"] == 1
    assert counts["customers"] == len(build_seed(ANCHOR).customers)
    assert counts["call_records"] == len(build_seed(ANCHOR).calls)


async def test_seed_wants_a_date_not_a_datetime(conn: asyncpg.Connection) -> None:
    with pytest.raises(TypeError):
        await seed_boss(conn, datetime(2024, 3, 18, 12, 0))
    assert await conn.fetchval("SELECT count(*) FROM boss.seed_info") == 0


async def test_migrations_apply_once(conn: asyncpg.Connection) -> None:
    assert await migrate(conn) == []


# --- the seed's data, for any anchor ----------------------------------------------------------------------


@pytest.mark.parametrize("anchor", [ANCHOR, *AWKWARD_ANCHORS])
def test_billing_periods_tile_and_the_current_one_has_eighteen_days(anchor: date) -> None:
    start = current_period_start(anchor)
    assert (anchor - start).days + 1 == BILLING_PERIOD_DAYS_SO_FAR == 18
    assert period_bounds(anchor, 0)[0] == start <= anchor <= period_bounds(anchor, 0)[1]
    for back in range(1, 13):
        first, last = period_bounds(anchor, back)
        assert last + timedelta(days=1) == period_bounds(anchor, back - 1)[0]
        assert 27 <= (last - first).days + 1 <= 31


@pytest.mark.parametrize("anchor", [ANCHOR, *AWKWARD_ANCHORS])
def test_story_figures_hold_for_any_anchor(anchor: date) -> None:
    seed = build_seed(anchor)
    spike, counterpart = BILLING_SPIKE_CUSTOMER.msisdn, BILLING_SPIKE_COUNTERPART.msisdn
    yesterday = anchor - timedelta(days=1)

    yesterdays = [c for c in seed.calls if c.msisdn == spike and local_day(c.started_at) == yesterday]
    assert sum(c.charge_fen for c in yesterdays) == 5820 and {c.other_party for c in yesterdays} == {
        counterpart
    }
    mirrored = {
        (c.started_at, c.duration_seconds)
        for c in seed.calls
        if c.msisdn == counterpart and c.other_party == spike
    }
    assert mirrored == {(c.started_at, c.duration_seconds) for c in yesterdays}

    bills = sorted((b for b in seed.bills if b.msisdn == spike), key=lambda b: b.period_start)
    closed, current = bills[:-1], bills[-1]
    assert len(closed) == 6 and not current.closed
    assert current.total_fen >= 4 * sum(b.total_fen for b in closed) / len(closed)
    for bill in bills:  # every bill is the sum of its period's calls
        in_period = [
            c
            for c in seed.calls
            if c.msisdn == spike and bill.period_start <= local_day(c.started_at) <= bill.period_end
        ]
        assert bill.total_fen == sum(c.charge_fen for c in in_period)

    discrepancy = BILL_DISCREPANCY_CUSTOMER.msisdn
    charged = {
        ch: {r.day: r.amount_fen for r in seed.daily_charges if r.msisdn == discrepancy and r.channel == ch}
        for ch in ("billing", "web", "terminal")
    }
    assert sum(charged["billing"].values()) == DISCREPANCY_BILLING_FEN == sum(charged["web"].values())
    assert sum(charged["terminal"].values()) == DISCREPANCY_TERMINAL_FEN
    assert max(charged["terminal"]) == seed.period_start + timedelta(days=13)
    assert max(charged["billing"]) == anchor

    validity = [b for b in seed.balance_changes if b.msisdn == VALIDITY_CUSTOMER.msisdn]
    batch = [b for b in validity if b.kind == "batch_adjustment"]
    assert len(batch) == 1 and batch[0].amount_fen == -1000
    assert batch[0].validity_before is not None and batch[0].validity_after is not None
    assert batch[0].validity_before - batch[0].validity_after == timedelta(days=545)
    assert batch[0].validity_after == anchor + timedelta(days=30)
    running = 0
    for change in validity:  # the history adds up
        running += change.amount_fen
        assert change.balance_after_fen == running

    arrears = [b for b in seed.balance_changes if b.msisdn == ARREARS_CUSTOMER.msisdn]
    assert arrears[-1].balance_after_fen == -ARREARS_FEN
    (customer,) = [c for c in seed.customers if c.msisdn == ARREARS_CUSTOMER.msisdn]
    assert customer.cancelled_at is not None
    assert max(c.started_at for c in seed.calls if c.msisdn == customer.msisdn) < customer.cancelled_at


def test_every_customer_is_well_formed() -> None:
    seed = build_seed(ANCHOR)
    numbers = [c.msisdn for c in seed.customers]
    ids = [c.id_number for c in seed.customers]
    plans = {plan.code: plan for plan in PLANS}

    assert len(set(numbers)) == len(numbers) and len(set(ids)) == len(ids)
    assert set(story_msisdns().values()) <= set(numbers) and len(story_msisdns()) == 7
    assert STRANGER_ID_NUMBER not in ids
    for customer in seed.customers:
        assert carrier_of(customer.msisdn) is Carrier.CHINA_MOBILE
        assert parse_id_number(customer.id_number) == customer.id_number
        assert customer.name.strip()
        assert plans[customer.plan_code].account_type == customer.account_type
    assert {"SZX-58", "SZX-18"} <= set(plans)


def test_build_seed_is_pure() -> None:
    assert build_seed(ANCHOR) == build_seed(ANCHOR)
    assert build_seed(ANCHOR) != build_seed(ANCHOR + timedelta(days=1))


# --- who seeds ----------------------------------------------------------------------------------------


def test_the_worker_seeds_the_billing_sandbox_only_into_the_embedded_database() -> None:
    assert seeds_sandbox(Settings.from_env({}))
    assert seeds_sandbox(Settings.from_env({"PARTNER_URL": "http://partners.internal:8080"}))
    external = {"DATABASE_URL": "postgresql://user:pw@db.internal/complaints"}
    assert not seeds_sandbox(Settings.from_env(external))
    assert not seeds_sandbox(Settings.from_env({**external, "PARTNER_URL": "http://partners.internal:8080"}))


@pytest.mark.parametrize("seed_sandbox", [False, True])
async def test_the_workers_dependencies_seed_only_when_told(database_url: str, seed_sandbox: bool) -> None:
    # Nothing listens on the partner URL: opening the adapter makes no request.
    async with dependencies(database_url, "http://127.0.0.1:9", seed_sandbox=seed_sandbox) as deps:
        async with deps.pool.acquire() as conn:
            customers = await conn.fetchval("SELECT count(*) FROM boss.customers")
            anchors = await conn.fetchval("SELECT count(*) FROM boss.seed_info")
    if seed_sandbox:
        assert customers == len(build_seed(date.today()).customers) and anchors == 1
    else:
        assert customers == 0 and anchors == 0
