"""The billing adapter against a real PostgreSQL: the seed's stories as the playbooks will read them,
and writes that happen once per idempotency key, whatever the retries and races."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from pydantic import ValidationError

from adapters.billing import PostgresBillingSystem
from domain.billing_citations import cite_call, cite_daily_charge, cite_sale
from domain.citations import Citation, cite
from domain.clock import at_local
from ports.billing import (
    AdjustmentRequest,
    AlreadyRemedied,
    BillingRefused,
    BillingSystem,
    IdempotencyConflict,
    InvalidBillingRequest,
    UnknownCustomer,
    UnknownSubscription,
    UnknownTariffPlan,
)
from sandboxes.boss_seed import rearm_stories, seed_boss, story_msisdns
from store.migrate import migrate
from stories.arrears_dispute import ARREARS_FEN
from stories.bill_discrepancy import OVERCHARGE_DAY, OVERCHARGE_MSISDN, REFERENCE_MSISDNS
from stories.billing_spike import BILLING_SPIKE_COUNTERPART, SPIKE_LONG_CALLS_FEN
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.spam_sms import HOROSCOPE_SP, WEATHER_SP
from stories.tariff_dispute import TARIFF_AGENT_NAME

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
ANCHOR = date(2024, 3, 18)

STORY_MSISDNS = story_msisdns()
SPIKE = STORY_MSISDNS["billing_spike"]
ARREARS = STORY_MSISDNS["arrears_dispute"]
DISCREPANCY = STORY_MSISDNS["bill_discrepancy"]
VALIDITY = STORY_MSISDNS["validity_shortened"]
SPAM = STORY_MSISDNS["spam_sms"]
TARIFF = STORY_MSISDNS["tariff_dispute"]
FORWARDING = STORY_MSISDNS["forwarding_cancel"]


def _database_url(name: str) -> str:
    return SERVER_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest_asyncio.fixture(scope="module")
async def pool() -> AsyncIterator[asyncpg.Pool]:
    """A database of its own (boss_test_<random>), migrated and seeded at ANCHOR; dropped afterwards."""
    name = f"boss_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(SERVER_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pool = await asyncpg.create_pool(_database_url(name), min_size=1, max_size=12)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
                await seed_boss(conn, ANCHOR)
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture
async def billing(pool: asyncpg.Pool) -> PostgresBillingSystem:
    """The adapter, on stories put back as seeded (ledger and audit rows from earlier tests stay)."""
    async with pool.acquire() as conn:
        await rearm_stories(conn)
    return PostgresBillingSystem(pool)


def key(step: str) -> str:
    return f"T-{uuid.uuid4().hex[:10]}-{step}"


# A well-formed citation of no record: for requests refused before their citations are looked at.
NO_RECORD = cite("cdr", "0", {}, "charge")


def refund(
    msisdn: str,
    amount_fen: int,
    idempotency_key: str,
    kind: str = "refund",
    charge: Citation = NO_RECORD,
    complaint_id: str = "CMP-TEST-1",
) -> AdjustmentRequest:
    return AdjustmentRequest(
        idempotency_key=idempotency_key,
        complaint_id=complaint_id,
        msisdn=msisdn,
        kind=kind,  # type: ignore[arg-type]
        amount_fen=amount_fen,
        reason="计费核实后退还",
        citations=[charge],
    )


async def call_charges(billing: PostgresBillingSystem, msisdn: str) -> list[Citation]:
    """Each of the number's call records, cited as a charge."""
    since, until = day_start(ANCHOR - timedelta(days=400)), day_start(ANCHOR + timedelta(days=2))
    calls = await billing.call_records(msisdn, since, until)
    return [cite_call(call, "charge") for call in calls]


async def overcharged_day(billing: PostgresBillingSystem) -> Citation:
    """The billing system's row of the overcharged day of the bill_discrepancy overcharge story."""
    period = await billing.current_period(OVERCHARGE_MSISDN)
    rows = await billing.daily_charges(OVERCHARGE_MSISDN, period.start, period.end, "billing")
    day = period.start + timedelta(days=OVERCHARGE_DAY - 1)
    return cite_daily_charge(next(row for row in rows if row.day == day), "charge")


def day_start(day: date) -> datetime:
    return at_local(day, 0, 0)


async def ledger_rows(pool: asyncpg.Pool, idempotency_key: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM boss.adjustment_ledger WHERE idempotency_key = $1", idempotency_key
    )
    return count


def test_postgres_adapter_satisfies_the_port() -> None:
    port: type[BillingSystem] = PostgresBillingSystem  # mypy checks the structural match
    assert all(callable(getattr(port, name)) for name in ("get_customer", "apply_adjustment", "report_spam"))


# --- the stories, as the playbooks read them ------------------------------------------------------


async def test_billing_spike_long_calls_yesterday_cost_exactly_58_20(billing: PostgresBillingSystem) -> None:
    yesterday = ANCHOR - timedelta(days=1)
    calls = await billing.call_records(SPIKE, day_start(yesterday), day_start(ANCHOR))

    assert sum(call.charge_fen for call in calls) == SPIKE_LONG_CALLS_FEN == 5820
    assert len(calls) >= 2
    assert {call.other_party for call in calls} == {BILLING_SPIKE_COUNTERPART.msisdn}
    assert all(call.duration_seconds >= 15 * 60 and call.direction == "outgoing" for call in calls)


async def test_billing_spike_current_bill_is_over_four_times_the_usual(
    billing: PostgresBillingSystem,
) -> None:
    bills = await billing.monthly_bills(SPIKE, months=6)

    current, closed = bills[0], bills[1:]
    assert not current.closed and len(closed) == 6 and all(bill.closed for bill in closed)
    assert [bill.period_start for bill in bills] == sorted(
        (bill.period_start for bill in bills), reverse=True
    )
    assert all(2500 <= bill.total_fen <= 3500 for bill in closed)  # about 30 yuan a month
    average = sum(bill.total_fen for bill in closed) / len(closed)
    assert current.total_fen >= 4 * average
    # The bill is the sum of the period's call records: the evidence adds up.
    period = await billing.current_period(SPIKE)
    calls = await billing.call_records(
        SPIKE, day_start(period.start), day_start(period.end + timedelta(days=1))
    )
    assert sum(call.charge_fen for call in calls) == current.total_fen


async def test_billing_spike_counterpart_records_show_the_same_calls(billing: PostgresBillingSystem) -> None:
    since, until = day_start(ANCHOR - timedelta(days=1)), day_start(ANCHOR)
    ours = await billing.call_records(SPIKE, since, until)
    theirs = await billing.counterpart_call_records(SPIKE, BILLING_SPIKE_COUNTERPART.msisdn, since, until)

    assert [(c.started_at, c.duration_seconds) for c in theirs] == [
        (c.started_at, c.duration_seconds) for c in ours
    ]
    assert all(c.msisdn == BILLING_SPIKE_COUNTERPART.msisdn and c.other_party == SPIKE for c in theirs)
    assert all(c.direction == "incoming" for c in theirs)


async def test_counterpart_of_another_carrier_is_not_ours_to_read(billing: PostgresBillingSystem) -> None:
    since, until = day_start(ANCHOR - timedelta(days=1)), day_start(ANCHOR)
    with pytest.raises(UnknownCustomer, match="130\\*\\*\\*\\*0001"):
        await billing.counterpart_call_records(SPIKE, FORWARDING_CUSTOMER.partner_msisdn, since, until)


async def test_arrears_story_cancelled_prepaid_owing_twenty_odd_after_a_long_last_call(
    billing: PostgresBillingSystem,
) -> None:
    customer = await billing.get_customer(ARREARS)
    last = await billing.last_usage(ARREARS)
    history = await billing.balance_history(ARREARS)

    assert customer.name == "胡先生" and customer.status == "cancelled" and customer.account_type == "prepaid"
    assert "神州行轻松卡" in customer.brand and "免来显" in customer.brand
    assert 2000 <= customer.arrears_fen <= 3000 and customer.arrears_fen == ARREARS_FEN
    assert customer.cancelled_at is not None
    assert customer.cancelled_at < day_start(ANCHOR - timedelta(days=50))
    assert last is not None and last.started_at < customer.cancelled_at
    assert last.duration_seconds >= 30 * 60 and last.charge_fen > customer.arrears_fen  # the long last call
    assert history[-1].balance_after_fen == -customer.arrears_fen


async def test_bill_discrepancy_terminal_misses_the_last_four_days(billing: PostgresBillingSystem) -> None:
    period = await billing.current_period(DISCREPANCY)
    assert (period.end - period.start).days + 1 == 18 and period.end == ANCHOR

    by_channel = {
        channel: await billing.daily_charges(DISCREPANCY, period.start, period.end, channel)
        for channel in ("billing", "web", "terminal")
    }
    totals = {channel: sum(c.amount_fen for c in charges) for channel, charges in by_channel.items()}
    assert 10000 <= totals["billing"] < 20000  # 100-odd yuan
    assert 5000 <= totals["terminal"] < 6000  # 50-odd yuan
    assert [(c.day, c.amount_fen) for c in by_channel["web"]] == [
        (c.day, c.amount_fen) for c in by_channel["billing"]
    ]

    billed = {c.day: c.amount_fen for c in by_channel["billing"]}
    shown = {c.day: c.amount_fen for c in by_channel["terminal"]}
    missing = sorted(set(billed) - set(shown))
    assert missing == [period.end - timedelta(days=n) for n in (3, 2, 1, 0)]  # days 15-18
    assert all(shown[day] == billed[day] for day in shown)  # no overcharge on the days both show
    assert sum(billed[day] for day in missing) == totals["billing"] - totals["terminal"]
    assert await billing.sp_subscriptions(DISCREPANCY) == []


async def test_reference_numbers_agree_on_all_three_channels(billing: PostgresBillingSystem) -> None:
    period = await billing.current_period(DISCREPANCY)
    numbers = await billing.reference_numbers(exclude=DISCREPANCY)

    assert len(numbers) == 2 and DISCREPANCY not in numbers and set(numbers) == set(REFERENCE_MSISDNS)
    for number in numbers:
        views = [
            [
                (c.day, c.amount_fen)
                for c in await billing.daily_charges(number, period.start, period.end, channel)
            ]
            for channel in ("billing", "terminal", "web")
        ]
        assert len(views[0]) == 18 and views[0] == views[1] == views[2]
    assert await billing.reference_numbers(exclude=[REFERENCE_MSISDNS[0]], limit=5) == [REFERENCE_MSISDNS[1]]


async def test_overcharge_branch_billing_charged_twelve_yuan_more_on_one_day(
    billing: PostgresBillingSystem,
) -> None:
    period = await billing.current_period(OVERCHARGE_MSISDN)
    views = {
        channel: {
            c.day: c.amount_fen for c in await billing.daily_charges(OVERCHARGE_MSISDN, *period, channel)
        }
        for channel in ("billing", "terminal", "web")
    }
    assert views["web"] == views["terminal"] and len(views["web"]) == 18
    differences = {day: views["billing"][day] - views["web"][day] for day in views["web"]}
    over = {day: fen for day, fen in differences.items() if fen != 0}
    assert over == {period.start + timedelta(days=OVERCHARGE_DAY - 1): 1200}


async def test_validity_shortened_by_a_minus_ten_yuan_batch_adjustment(
    billing: PostgresBillingSystem,
) -> None:
    customer = await billing.get_customer(VALIDITY)
    history = await billing.balance_history(VALIDITY)

    batch = [change for change in history if change.kind == "batch_adjustment"]
    assert len(batch) == 1
    adjustment = batch[0]
    assert adjustment.amount_fen == -1000 and adjustment.reason == "充值送饮料多返充"
    assert adjustment.validity_before is not None and adjustment.validity_after is not None
    assert (adjustment.validity_before - adjustment.validity_after).days == 545
    assert adjustment.validity_after == ANCHOR + timedelta(days=30) == customer.validity_until
    assert adjustment is history[-1] and customer.balance_fen == adjustment.balance_after_fen
    # The over-credit it claws back: a +10 yuan promotion on the day of a recharge.
    assert any(c.kind == "promotion" and c.amount_fen == 1000 and c.at < adjustment.at for c in history)
    assert customer.status == "active"


async def test_spam_sms_one_unordered_sp_and_three_kinds_of_senders(billing: PostgresBillingSystem) -> None:
    subscriptions = {s.sp_code: s for s in await billing.sp_subscriptions(SPAM)}
    sources = await billing.received_sms_sources(SPAM)

    assert [s.sp_code for s in subscriptions.values() if not s.customer_confirmed] == [HOROSCOPE_SP]
    assert (
        subscriptions[HOROSCOPE_SP].monthly_fee_fen == 500 and subscriptions[HOROSCOPE_SP].status == "active"
    )
    weather = subscriptions[WEATHER_SP]
    assert weather.service_name == "天气预报" and weather.customer_confirmed
    assert weather.ordered_via == "web" and weather.delivery_source == "web"
    kinds = {s.source_kind for s in sources}
    assert kinds == {"point_to_point", "sp", "web"}
    spam_texts = " ".join(s.sample_text for s in sources if s.source_kind == "point_to_point")
    assert "中奖" in spam_texts and "盗用" in spam_texts
    assert len([s for s in sources if s.source_kind == "point_to_point"]) == 3
    assert {s.sp_code for s in sources if s.source_kind == "web"} >= {WEATHER_SP}
    assert all(s.message_count >= 1 and s.first_received_at <= s.last_received_at for s in sources)


async def test_tariff_dispute_number_sold_by_an_agent_store_on_szx_58(billing: PostgresBillingSystem) -> None:
    customer = await billing.get_customer(TARIFF)
    plan = await billing.tariff_plan(customer.plan_code)
    cheaper = await billing.tariff_plan("SZX-18")
    store = await billing.agent_store(customer.agent_code or "")

    assert customer.sales_channel == "agent_store" and customer.agent_code == "AG-HZ-017"
    assert plan.code == "SZX-58" and plan.monthly_fee_fen == 5800 and cheaper.monthly_fee_fen == 1800
    assert store.name == TARIFF_AGENT_NAME
    with pytest.raises(UnknownTariffPlan):
        await billing.tariff_plan("SZX-999")


async def test_forwarding_customer_has_an_active_number_change_notice(billing: PostgresBillingSystem) -> None:
    customer = await billing.get_customer(FORWARDING)

    assert (customer.name, customer.id_number) == (
        FORWARDING_CUSTOMER.name,
        FORWARDING_CUSTOMER.id_number,
    )
    assert customer.number_change_notice_active
    assert customer.number_change_notice_old_msisdn == FORWARDING_CUSTOMER.partner_msisdn
    assert "id_number" not in repr(customer)  # kept out of logs


# --- bad input ---------------------------------------------------------------------------------------


async def test_unknown_number_is_refused_with_a_masked_readable_message(
    billing: PostgresBillingSystem,
) -> None:
    with pytest.raises(UnknownCustomer) as raised:
        await billing.get_customer("13800000000")
    assert "138****0000" in str(raised.value) and "13800000000" not in str(raised.value)
    with pytest.raises(UnknownCustomer):
        await billing.apply_adjustment(refund("13800000000", 100, key("refund")))


@pytest.mark.parametrize("number", ["1366677876", "2366677876a", "١٣٦٦٦٧٧٨٧٦٥", ""])
async def test_malformed_number_is_refused(billing: PostgresBillingSystem, number: str) -> None:
    with pytest.raises(InvalidBillingRequest):
        await billing.get_customer(number)


async def test_naive_times_and_reversed_ranges_are_refused(billing: PostgresBillingSystem) -> None:
    with pytest.raises(InvalidBillingRequest, match="timezone-aware"):
        await billing.call_records(SPIKE, datetime(2024, 3, 1), datetime(2024, 3, 2))
    with pytest.raises(InvalidBillingRequest, match="after"):
        await billing.call_records(SPIKE, day_start(ANCHOR), day_start(ANCHOR - timedelta(days=1)))
    with pytest.raises(InvalidBillingRequest, match="channel"):
        await billing.daily_charges(DISCREPANCY, ANCHOR, ANCHOR, "kiosk")  # type: ignore[arg-type]


# --- adjustments: once per key -------------------------------------------------------------------------


async def test_adjustment_applied_twice_with_one_key_moves_money_once(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    before = (await billing.get_customer(OVERCHARGE_MSISDN)).balance_fen
    request = refund(
        OVERCHARGE_MSISDN, 2400, key("double-refund"), kind="double_refund", charge=await overcharged_day(billing)
    )

    first = await billing.apply_adjustment(request)
    again = await billing.apply_adjustment(request)

    assert first.effective and not again.effective
    assert again.model_dump(exclude={"effective"}) == first.model_dump(exclude={"effective"})
    assert first.balance_after_fen == before + 2400
    assert (await billing.get_customer(OVERCHARGE_MSISDN)).balance_fen == before + 2400
    assert await ledger_rows(pool, request.idempotency_key) == 1


async def test_concurrent_applies_with_one_key_write_one_row(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    before = (await billing.get_customer(SPIKE)).balance_fen
    request = refund(SPIKE, 5820, key("refund"), charge=(await call_charges(billing, SPIKE))[0])

    receipts = await asyncio.gather(*(billing.apply_adjustment(request) for _ in range(5)))

    assert sum(receipt.effective for receipt in receipts) == 1
    assert len({receipt.ledger_id for receipt in receipts}) == 1
    assert await ledger_rows(pool, request.idempotency_key) == 1
    assert (await billing.get_customer(SPIKE)).balance_fen == before + 5820


async def test_concurrent_applies_with_different_keys_lose_no_update(billing: PostgresBillingSystem) -> None:
    before = (await billing.get_customer(SPIKE)).balance_fen

    charges = await call_charges(billing, SPIKE)
    receipts = await asyncio.gather(
        *(billing.apply_adjustment(refund(SPIKE, 100, key(f"r{n}"), charge=charges[n])) for n in range(5))
    )

    assert all(receipt.effective for receipt in receipts)
    assert (await billing.get_customer(SPIKE)).balance_fen == before + 500


async def test_negative_amount_is_refused_by_the_model_and_the_database(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    with pytest.raises(ValidationError):
        refund(SPIKE, -100, key("neg"))
    before = (await billing.get_customer(SPIKE)).balance_fen

    sneaked = refund(SPIKE, 100, key("neg")).model_copy(update={"amount_fen": -100})  # past the model's check
    with pytest.raises(InvalidBillingRequest, match="amount_fen"):
        await billing.apply_adjustment(sneaked)
    assert await ledger_rows(pool, sneaked.idempotency_key) == 0
    assert (await billing.get_customer(SPIKE)).balance_fen == before

    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            """INSERT INTO boss.adjustment_ledger (idempotency_key, complaint_id, msisdn, kind, amount_fen,
                   reason, balance_after_fen, arrears_after_fen)
               VALUES ($1, 'CMP-TEST-1', $2, 'refund', -100, 'x', 0, 0)""",
            sneaked.idempotency_key,
            SPIKE,
        )
    assert await ledger_rows(pool, sneaked.idempotency_key) == 0


async def test_money_kinds_need_an_amount_and_other_kinds_none() -> None:
    with pytest.raises(ValidationError, match="above zero"):
        refund(SPIKE, 0, key("zero"))
    with pytest.raises(ValidationError, match="validity_until"):
        AdjustmentRequest(
            idempotency_key=key("v"),
            complaint_id="CMP-TEST-1",
            msisdn=VALIDITY,
            kind="validity_extension",
            amount_fen=0,
            reason="延长有效期",
        )
    with pytest.raises(ValidationError, match="moves no money"):
        AdjustmentRequest(
            idempotency_key=key("sp"),
            complaint_id="CMP-TEST-1",
            msisdn=SPAM,
            kind="sp_unsubscription",
            amount_fen=500,
            reason="退订",
            sp_code=HOROSCOPE_SP,
        )
    with pytest.raises(ValidationError):
        refund(SPIKE, 100, "a key with spaces")


async def test_reusing_a_key_for_another_adjustment_is_a_conflict(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    shared = key("refund")
    await billing.apply_adjustment(refund(SPIKE, 100, shared, charge=(await call_charges(billing, SPIKE))[0]))
    with pytest.raises(IdempotencyConflict, match="amount_fen"):
        await billing.apply_adjustment(refund(SPIKE, 200, shared))
    with pytest.raises(IdempotencyConflict):
        await billing.block_web_sms(SPAM, shared)
    assert await ledger_rows(pool, shared) == 1


async def test_arrears_waiver_must_match_the_arrears_and_zeroes_them(billing: PostgresBillingSystem) -> None:
    last_call = await billing.last_usage(ARREARS)
    assert last_call is not None

    def waiver(amount: int, idempotency_key: str) -> AdjustmentRequest:
        return AdjustmentRequest(
            idempotency_key=idempotency_key,
            complaint_id="CMP-TEST-2",
            msisdn=ARREARS,
            kind="arrears_waiver",
            amount_fen=amount,
            reason="主管批准减免欠费",
            citations=[cite_call(last_call, "charge")],
        )

    with pytest.raises(BillingRefused, match=r"¥23\.40"):
        await billing.apply_adjustment(waiver(2000, key("waive")))
    receipt = await billing.apply_adjustment(waiver(ARREARS_FEN, key("waive")))

    assert receipt.effective and receipt.arrears_after_fen == 0
    assert (await billing.get_customer(ARREARS)).arrears_fen == 0
    assert not (await billing.settle_arrears(ARREARS, key("pay"))).effective  # nothing left to pay


async def test_refund_to_a_cancelled_number_is_refused(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    request = refund(ARREARS, 100, key("refund"), charge=(await call_charges(billing, ARREARS))[0])
    with pytest.raises(BillingRefused, match="cancelled"):
        await billing.apply_adjustment(request)
    assert await ledger_rows(pool, request.idempotency_key) == 0


async def test_validity_extension_sets_the_date_and_never_shortens(billing: PostgresBillingSystem) -> None:
    def extension(until: date) -> AdjustmentRequest:
        return AdjustmentRequest(
            idempotency_key=key("extend"),
            complaint_id="CMP-TEST-3",
            msisdn=VALIDITY,
            kind="validity_extension",
            amount_fen=0,
            reason="停机后按约定延长有效期",
            validity_until=until,
        )

    restored = ANCHOR + timedelta(days=30 + 545)
    receipt = await billing.apply_adjustment(extension(restored))

    assert receipt.effective and receipt.validity_after == restored
    assert (await billing.get_customer(VALIDITY)).validity_until == restored
    with pytest.raises(BillingRefused, match="shorten"):
        await billing.apply_adjustment(extension(ANCHOR))


async def test_sp_unsubscription_ends_the_unordered_service(billing: PostgresBillingSystem) -> None:
    receipt = await billing.apply_adjustment(
        AdjustmentRequest(
            idempotency_key=key("unsub"),
            complaint_id="CMP-TEST-4",
            msisdn=SPAM,
            kind="sp_unsubscription",
            amount_fen=0,
            reason="客户未订购",
            sp_code=HOROSCOPE_SP,
        )
    )
    subscriptions = {s.sp_code: s for s in await billing.sp_subscriptions(SPAM)}

    assert receipt.effective and subscriptions[HOROSCOPE_SP].status == "unsubscribed"
    assert subscriptions[WEATHER_SP].status == "active"
    assert not (await billing.unsubscribe_sp(SPAM, HOROSCOPE_SP, key("unsub"))).effective
    with pytest.raises(UnknownSubscription):
        await billing.unsubscribe_sp(SPAM, "999999-NONE", key("unsub"))


# --- other writes ----------------------------------------------------------------------------------------


async def test_cancel_number_change_notice_once(billing: PostgresBillingSystem) -> None:
    cancel_key = key("cancel-notice")
    first = await billing.cancel_number_change_notice(FORWARDING, cancel_key)
    retry = await billing.cancel_number_change_notice(FORWARDING, cancel_key)
    other = await billing.cancel_number_change_notice(FORWARDING, key("cancel-notice"))

    assert first.effective and first.details["old_msisdn"] == FORWARDING_CUSTOMER.partner_msisdn
    assert not retry.effective and retry.reference == first.reference and retry.applied_at == first.applied_at
    assert not other.effective
    assert not (await billing.get_customer(FORWARDING)).number_change_notice_active


async def test_settle_arrears_records_one_payment(billing: PostgresBillingSystem, pool: asyncpg.Pool) -> None:
    pay_key = key("pay")
    first, retry = await asyncio.gather(
        billing.settle_arrears(ARREARS, pay_key), billing.settle_arrears(ARREARS, pay_key)
    )

    assert sorted([first.effective, retry.effective]) == [False, True]
    assert first.reference == retry.reference and (first.reference or "").startswith("PAY-")
    assert first.details == {"amount_fen": ARREARS_FEN}
    assert await pool.fetchval("SELECT count(*) FROM boss.payments WHERE idempotency_key = $1", pay_key) == 1
    customer = await billing.get_customer(ARREARS)
    assert customer.arrears_fen == 0 and customer.status == "cancelled"


async def test_block_web_sms_says_it_also_stops_the_weather_forecast(billing: PostgresBillingSystem) -> None:
    first = await billing.block_web_sms(SPAM, key("block"))
    second = await billing.block_web_sms(SPAM, key("block"))

    assert first.effective and first.details["also_stops"] == ["天气预报"]
    assert not second.effective
    assert (await billing.get_customer(SPAM)).web_sms_blocked


async def test_report_spam_to_the_spam_centre(billing: PostgresBillingSystem) -> None:
    senders = [
        s.sender for s in await billing.received_sms_sources(SPAM) if s.source_kind == "point_to_point"
    ]
    report_key = key("report")
    first = await billing.report_spam(SPAM, senders, report_key)
    retry = await billing.report_spam(SPAM, senders, report_key)

    assert first.effective and (first.reference or "").startswith("SR-")
    assert first.details == {"senders": senders, "reported_to": "10086999"}
    assert not retry.effective and retry.reference == first.reference
    with pytest.raises(IdempotencyConflict):
        await billing.report_spam(SPAM, senders[:1], report_key)
    with pytest.raises(InvalidBillingRequest):
        await billing.report_spam(SPAM, [], key("report"))
    with pytest.raises(InvalidBillingRequest):
        await billing.report_spam(SPAM, ["not-a-number"], key("report"))


async def test_raise_incident_on_the_terminal(billing: PostgresBillingSystem) -> None:
    incident_key = key("incident")
    first = await billing.raise_incident(
        "terminal", "自助终端详单缺少15日至18日的记录", incident_key, DISCREPANCY
    )
    retry = await billing.raise_incident(
        "terminal", "自助终端详单缺少15日至18日的记录", incident_key, DISCREPANCY
    )

    assert first.effective and (first.reference or "").startswith("INC-")
    assert not retry.effective and retry.reference == first.reference
    with pytest.raises(InvalidBillingRequest):
        await billing.raise_incident("terminal", "   ", key("incident"))


async def test_set_status_suspends_and_a_cancelled_number_stays_cancelled(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    suspended = await billing.set_status(VALIDITY, "suspended", key("suspend"))
    assert suspended.effective and suspended.details == {"from": "active", "to": "suspended"}
    assert (await billing.get_customer(VALIDITY)).status == "suspended"

    refused_key = key("reactivate")
    with pytest.raises(BillingRefused, match="cancelled"):
        await billing.set_status(ARREARS, "active", refused_key)
    # A refused write leaves no record behind: the key is still free.
    assert (
        await pool.fetchval("SELECT count(*) FROM boss.actions WHERE idempotency_key = $1", refused_key) == 0
    )
    with pytest.raises(InvalidBillingRequest):
        await billing.set_status(VALIDITY, "frozen", key("x"))  # type: ignore[arg-type]


async def test_change_plan_within_the_account_type(billing: PostgresBillingSystem) -> None:
    receipt = await billing.change_plan(TARIFF, "SZX-18", key("plan"))

    assert receipt.effective and receipt.details == {"from": "SZX-58", "to": "SZX-18"}
    assert (await billing.get_customer(TARIFF)).plan_code == "SZX-18"
    with pytest.raises(BillingRefused, match="postpaid"):
        await billing.change_plan(TARIFF, "GOTONE-88", key("plan"))


# --- rearming and audit records --------------------------------------------------------------------------


async def test_rearm_restores_the_stories_and_keeps_every_record(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    seeded = {number: await billing.get_customer(number) for number in story_msisdns().values()}
    await billing.apply_adjustment(refund(SPIKE, 5820, key("refund"), charge=(await call_charges(billing, SPIKE))[0]))
    await billing.cancel_number_change_notice(FORWARDING, key("cancel"))
    await billing.unsubscribe_sp(SPAM, HOROSCOPE_SP, key("unsub"))
    await billing.block_web_sms(SPAM, key("block"))
    await billing.settle_arrears(ARREARS, key("pay"))
    await billing.set_status(VALIDITY, "suspended", key("suspend"))
    await billing.change_plan(TARIFF, "SZX-18", key("plan"))
    await billing.report_spam(SPAM, ["13512340001"], key("report"))
    records = "SELECT (SELECT count(*) FROM boss.adjustment_ledger), (SELECT count(*) FROM boss.payments),"
    records += " (SELECT count(*) FROM boss.spam_reports), (SELECT count(*) FROM boss.actions),"
    records += " (SELECT count(*) FROM boss.sms_blocks)"
    kept = tuple(await pool.fetchrow(records))

    async with pool.acquire() as conn:
        await rearm_stories(conn)

    assert {number: await billing.get_customer(number) for number in story_msisdns().values()} == seeded
    assert all(s.status == "active" for s in await billing.sp_subscriptions(SPAM))
    assert tuple(await pool.fetchrow(records)) == kept


async def test_ledger_rows_cannot_be_changed_or_removed(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    charge = (await call_charges(billing, SPIKE))[0]
    receipt = await billing.apply_adjustment(refund(SPIKE, 100, key("refund"), charge=charge))
    ledger_id = int(receipt.ledger_id.removeprefix("ADJ-"))

    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await pool.execute("UPDATE boss.adjustment_ledger SET amount_fen = 1 WHERE id = $1", ledger_id)
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await pool.execute("DELETE FROM boss.adjustment_ledger WHERE id = $1", ledger_id)
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await pool.execute("TRUNCATE boss.payments")


# --- one remedy per charge, ever -------------------------------------------------------------------------


async def test_a_charge_is_remedied_once_whichever_case_asks(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    charge = await overcharged_day(billing)
    before = (await billing.get_customer(OVERCHARGE_MSISDN)).balance_fen
    assert await billing.prior_remedy([charge]) is None
    first = await billing.apply_adjustment(
        refund(OVERCHARGE_MSISDN, 2400, key("a"), kind="double_refund", charge=charge, complaint_id="CMP-A")
    )

    with pytest.raises(AlreadyRemedied) as refused:
        await billing.apply_adjustment(
            refund(OVERCHARGE_MSISDN, 2400, key("b"), kind="double_refund", charge=charge, complaint_id="CMP-B")
        )

    prior = refused.value.prior
    assert (prior.charge, prior.complaint_id, prior.ledger_id) == (charge.key, "CMP-A", first.ledger_id)
    assert await billing.prior_remedy([charge]) == prior
    assert prior.applied_at == first.applied_at
    assert (await billing.get_customer(OVERCHARGE_MSISDN)).balance_fen == before + 2400
    assert [e.complaint_id for e in await billing.ledger(["CMP-A", "CMP-B"])] == ["CMP-A"]
    # A retry of the first case's own request is still the idempotent replay, not a refusal.
    again = await billing.apply_adjustment(
        refund(OVERCHARGE_MSISDN, 2400, first.idempotency_key, kind="double_refund", charge=charge,
               complaint_id="CMP-A")
    )
    assert not again.effective and again.ledger_id == first.ledger_id


async def test_concurrent_cases_about_one_charge_write_one_ledger_row(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    charge = (await call_charges(billing, SPIKE))[0]
    before = (await billing.get_customer(SPIKE)).balance_fen
    cases = [f"CMP-RACE-{uuid.uuid4().hex[:6]}" for _ in range(6)]

    results = await asyncio.gather(
        *(billing.apply_adjustment(refund(SPIKE, 300, key(c), charge=charge, complaint_id=c)) for c in cases),
        return_exceptions=True,
    )

    applied = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyRemedied)]
    assert len(applied) == 1 and len(refused) == 5, results
    assert {r.prior.ledger_id for r in refused} == {applied[0].ledger_id}
    assert len(await billing.ledger(cases)) == 1
    assert (await billing.get_customer(SPIKE)).balance_fen == before + 300
    rows = await pool.fetchval(
        "SELECT count(*) FROM boss.remedied_charges WHERE charge_key = $1 AND released_at IS NULL", charge.key
    )
    assert rows == 1


async def test_citations_must_be_the_billing_systems_own_records(billing: PostgresBillingSystem) -> None:
    charge = (await call_charges(billing, SPIKE))[0]
    forged = charge.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(InvalidBillingRequest, match="hash differs"):
        await billing.apply_adjustment(refund(SPIKE, 100, key("forged"), charge=forged))
    with pytest.raises(InvalidBillingRequest, match="holds no"):
        await billing.apply_adjustment(refund(SPIKE, 100, key("none"), charge=NO_RECORD))
    someone_elses = (await call_charges(billing, ARREARS))[0]
    with pytest.raises(InvalidBillingRequest, match="not a charge of"):
        await billing.apply_adjustment(refund(SPIKE, 100, key("other"), charge=someone_elses))
    with pytest.raises(ValidationError, match="must cite the charge"):
        refund(SPIKE, 100, key("evidence"), charge=charge.model_copy(update={"role": "evidence"}))


async def test_cited_records_are_fetched_again_and_their_hashes_checked(billing: PostgresBillingSystem) -> None:
    call = (await call_charges(billing, SPIKE))[0]
    day = await overcharged_day(billing)
    sale = cite_sale(await billing.get_customer(TARIFF))
    forged = call.model_copy(update={"sha256": "f" * 64})

    found = await billing.cited_records([call, day, sale, forged, NO_RECORD])

    assert [f.matches for f in found] == [True, True, True, False, False]
    assert found[3].content == found[0].content and found[4].content is None


async def test_rearming_the_stories_releases_their_remedies_and_keeps_the_record(
    billing: PostgresBillingSystem, pool: asyncpg.Pool
) -> None:
    charge = (await call_charges(billing, SPIKE))[1]
    await billing.apply_adjustment(refund(SPIKE, 100, key("first"), charge=charge))
    async with pool.acquire() as conn:
        await rearm_stories(conn)
    again = await billing.apply_adjustment(refund(SPIKE, 100, key("told-again"), charge=charge))
    assert again.effective
    rows = await pool.fetch("SELECT released_at FROM boss.remedied_charges WHERE charge_key = $1", charge.key)
    assert sorted(r["released_at"] is None for r in rows)[-1] and len(rows) >= 2
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await pool.execute("DELETE FROM boss.remedied_charges WHERE charge_key = $1", charge.key)
