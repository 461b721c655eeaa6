"""`starter reconcile`: the billing ledger and the partners' records against the cases' events.

A database and a partner sandbox of this test's own, real cases run to their end on the time-skipping
server (money moved, a forwarding cancelled, a sale verified with an agent store): clean, exit 0.
Then money moved behind the cases' back, a case claiming a ledger row that does not exist, and a
partner that forgot a request each show as a mismatch, and the command exits 1.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.partner_carriers import HttpPartnerCarriers
from client.api import ComplaintClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.intake import ComplaintIntake, parse_intake
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from sandboxes.reset import reset_partner
from store.event_store import PostgresEventStore
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.tariff_dispute import TARIFF_CUSTOMER
from tests.audit.conftest import AuditDb
from tests.conftest import engine
from tests.domain.factories import Stream, intake_data
from tests.helpers import wait_for_question
from tests.identity import signed
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


async def _run_to_close(client: ComplaintClient, intake: ComplaintIntake) -> None:
    filed = await client.file(intake)
    await wait_for_question(client, intake.complaint_id)
    await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await filed.result()


async def test_reconcile_is_clean_after_real_cases_and_names_each_mismatch(
    audit_db: AuditDb, cli, time_skipping_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with audit_db.pool.acquire() as conn:
        await seed_boss(conn, datetime.now(UTC).date())
    sandbox = await start_partner_sandbox(port=0)
    try:
        async with HttpPartnerCarriers(sandbox.url) as partners:
            deps = Dependencies(pool=audit_db.pool, partners=partners)
            async with engine(time_skipping_env, deps) as client:
                forwarding = intake_data(complaint_id=f"REC-FWD-{uuid.uuid4().hex[:6]}")
                await _run_to_close(client, parse_intake(forwarding))
                tariff = intake_data(
                    complaint_id=f"REC-TAR-{uuid.uuid4().hex[:6]}",
                    category="tariff_dispute",
                    msisdn=TARIFF_CUSTOMER.msisdn,
                    customer_name=TARIFF_CUSTOMER.name,
                    id_number=None,
                    partner_msisdn=None,
                )
                await _run_to_close(client, parse_intake(tariff))
        run = cli(audit_db.url)
        monkeypatch.setenv("PARTNER_URL", sandbox.url)
        clean = await run("reconcile")
        assert clean.code == 0, clean.out + clean.err
        assert clean.out.startswith(
            "OK: 1 ledger row(s) against 1 AdjustmentApplied event(s), 2 partner record(s)"
        )

        # Money moved behind the cases' back.
        await audit_db.pool.execute(
            """INSERT INTO boss.adjustment_ledger (idempotency_key, complaint_id, msisdn, kind, amount_fen,
                   reason, balance_after_fen, arrears_after_fen)
               VALUES ('by-hand-1', 'NO-SUCH-CASE', $1, 'refund', 1200, 'by hand', 0, 0)""",
            TARIFF_CUSTOMER.msisdn,
        )
        # A case that says money moved which never did.
        s = Stream("REC-CLAIM")
        await PostgresEventStore(audit_db.pool).append(
            "REC-CLAIM",
            [
                s.filed(msisdn=FORWARDING_CUSTOMER.msisdn),
                s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="refund", amount_fen=500,
                       reason="claimed", needs_approval=False),
                s.next(ev.AdjustmentApplied, adjustment_id="adj-1", kind="refund", amount_fen=500,
                       idempotency_key="REC-CLAIM:r0:adj-1", ledger_id="ADJ-999999", effective=True),
            ],
        )
        # A partner that forgot every request it answered.
        await reset_partner(sandbox.url)

        dirty = await run("reconcile")
        assert dirty.code == 1, dirty.out + dirty.err
        mismatches = [line for line in dirty.out.splitlines() if line.startswith("MISMATCH")]
        assert any("case NO-SUCH-CASE" in m and "no AdjustmentApplied event records it" in m for m in mismatches)
        assert any("case REC-CLAIM event 3" in m and "ADJ-999999 is not in the billing system" in m
                   for m in mismatches)
        forgotten = [m for m in mismatches if "the partner has no record of this request" in m]
        assert len(forgotten) == 2 and len(mismatches) == 4
        assert "FAILED:" in dirty.out and "4 mismatch(es)" in dirty.out
    finally:
        await sandbox.stop()
