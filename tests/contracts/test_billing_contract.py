"""The billing port's contract, held by PostgresBillingSystem (a fresh seeded PostgreSQL) and the in-memory
fake (tests/fakes/billing.py): both hold the seed's stories, anchored to one date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
import pytest_asyncio

from adapters.billing import PostgresBillingSystem
from domain.billing_citations import cite_call
from ports.billing import (
    AdjustmentRequest,
    AlreadyRemedied,
    BillingRefused,
    BillingSystem,
    IdempotencyConflict,
    InvalidBillingRequest,
    UnknownCustomer,
)
from sandboxes.boss_seed import seed_boss
from stories.arrears_dispute import ARREARS_CUSTOMER, ARREARS_FEN
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.audit.conftest import AuditDb
from tests.fakes.billing import InMemoryBillingSystem

ANCHOR = date(2026, 11, 20)
UNKNOWN = "13800000417"


@pytest_asyncio.fixture(params=["postgres", "memory"])
async def billing(request: pytest.FixtureRequest, audit_db: AuditDb) -> AsyncIterator[BillingSystem]:
    if request.param == "memory":
        yield InMemoryBillingSystem(ANCHOR)
        return
    async with audit_db.pool.acquire() as conn:
        await seed_boss(conn, ANCHOR)
    yield PostgresBillingSystem(audit_db.pool)


async def test_a_customer_is_found_by_number_and_an_unknown_number_is_refused(billing: BillingSystem) -> None:
    customer = await billing.get_customer(FORWARDING_CUSTOMER.msisdn)
    assert (customer.msisdn, customer.name) == (FORWARDING_CUSTOMER.msisdn, FORWARDING_CUSTOMER.name)
    assert customer.number_change_notice_active is True
    with pytest.raises(UnknownCustomer):
        await billing.get_customer(UNKNOWN)
    with pytest.raises(InvalidBillingRequest):
        await billing.get_customer("not a number")


async def test_the_reads_agree_on_a_story(billing: BillingSystem) -> None:
    account = await billing.get_customer(ARREARS_CUSTOMER.msisdn)
    assert (account.status, account.arrears_fen) == ("cancelled", ARREARS_FEN)
    last = await billing.last_usage(ARREARS_CUSTOMER.msisdn)
    assert last is not None and last.msisdn == ARREARS_CUSTOMER.msisdn
    history = await billing.balance_history(ARREARS_CUSTOMER.msisdn)
    assert history and history == sorted(history, key=lambda line: line.at)
    assert history[-1].balance_after_fen == -ARREARS_FEN
    period = await billing.current_period(ARREARS_CUSTOMER.msisdn)
    assert period.end == ANCHOR and period.start <= ANCHOR


async def test_an_action_is_done_once_per_key_and_a_reused_key_is_refused(billing: BillingSystem) -> None:
    first = await billing.cancel_number_change_notice(FORWARDING_CUSTOMER.msisdn, "CASE-B1/notice")
    again = await billing.cancel_number_change_notice(FORWARDING_CUSTOMER.msisdn, "CASE-B1/notice")
    assert (first.effective, again.effective) == (True, False)
    assert again.details == first.details and first.details["notice_was_active"] is True
    assert (await billing.get_customer(FORWARDING_CUSTOMER.msisdn)).number_change_notice_active is False
    later = await billing.cancel_number_change_notice(FORWARDING_CUSTOMER.msisdn, "CASE-B2/notice")
    assert later.effective is False and later.details == {"notice_was_active": False}
    with pytest.raises(IdempotencyConflict):
        await billing.settle_arrears(ARREARS_CUSTOMER.msisdn, "CASE-B1/notice")


def waiver(billing_key: str, complaint_id: str, amount_fen: int, citations: list) -> AdjustmentRequest:
    return AdjustmentRequest(
        idempotency_key=billing_key,
        complaint_id=complaint_id,
        msisdn=ARREARS_CUSTOMER.msisdn,
        kind="arrears_waiver",
        amount_fen=amount_fen,
        reason="the customer disputes the last call",
        citations=citations,
    )


async def test_an_adjustment_applies_once_and_its_charge_is_remedied_once(billing: BillingSystem) -> None:
    last = await billing.last_usage(ARREARS_CUSTOMER.msisdn)
    assert last is not None
    charge = [cite_call(last, "charge")]
    with pytest.raises(BillingRefused):
        await billing.apply_adjustment(waiver("CASE-W1/waiver-x", "CASE-W1", ARREARS_FEN - 1, charge))
    receipt = await billing.apply_adjustment(waiver("CASE-W1/waiver", "CASE-W1", ARREARS_FEN, charge))
    assert (receipt.effective, receipt.arrears_after_fen) == (True, 0)
    again = await billing.apply_adjustment(waiver("CASE-W1/waiver", "CASE-W1", ARREARS_FEN, charge))
    assert (again.effective, again.ledger_id) == (False, receipt.ledger_id)
    with pytest.raises(IdempotencyConflict):
        await billing.apply_adjustment(waiver("CASE-W1/waiver", "CASE-W9", ARREARS_FEN, charge))
    prior = await billing.prior_remedy(charge)
    assert prior is not None and (prior.complaint_id, prior.ledger_id) == ("CASE-W1", receipt.ledger_id)
    with pytest.raises(AlreadyRemedied):
        await billing.apply_adjustment(waiver("CASE-W2/waiver", "CASE-W2", ARREARS_FEN, charge))
    assert [entry.complaint_id for entry in await billing.ledger()] == ["CASE-W1"]


async def test_a_citation_of_a_record_the_billing_system_does_not_hold_is_refused(billing: BillingSystem) -> None:
    last = await billing.last_usage(ARREARS_CUSTOMER.msisdn)
    assert last is not None
    forged = cite_call(last.model_copy(update={"charge_fen": last.charge_fen + 100}), "charge")
    with pytest.raises(InvalidBillingRequest):
        await billing.apply_adjustment(waiver("CASE-W3/waiver", "CASE-W3", ARREARS_FEN, [forged]))
    assert await billing.ledger() == []
