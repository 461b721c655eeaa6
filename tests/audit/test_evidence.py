"""Evidence-bound adjustments, for auditors: `history` and `export` show the cited records, and
`verify --deep` fetches them again from the billing system and checks their hashes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.billing import PostgresBillingSystem
from cli.timeline import describe, render_state
from domain import events as ev
from domain.billing_citations import cite_call, cite_daily_charge
from domain.citations import Citation
from domain.state import fold
from sandboxes.boss_seed import seed_boss, story_msisdns
from store.event_store import PostgresEventStore
from stories.bill_discrepancy import OVERCHARGE_MSISDN
from tests.audit.conftest import AuditDb
from tests.domain.factories import Stream

SPIKE = story_msisdns()["billing_spike"]


async def _refund_case(audit_db: AuditDb, complaint_id: str) -> list[Citation]:
    """A billing_spike case whose refund cites two of the customer's call records and a daily charge."""
    async with audit_db.pool.acquire() as conn:
        await seed_boss(conn, datetime.now(UTC).date())
    billing = PostgresBillingSystem(audit_db.pool)
    calls = await billing.call_records(SPIKE, datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=2))
    period = await billing.current_period(OVERCHARGE_MSISDN)
    (day,) = await billing.daily_charges(OVERCHARGE_MSISDN, period.start, period.start, "web")
    citations = [cite_call(calls[0], "charge"), cite_call(calls[1]), cite_daily_charge(day)]
    s = Stream(complaint_id)
    common: dict[str, Any] = {"adjustment_id": "adj-1", "kind": "refund", "amount_fen": 2280, "citations": citations}
    events = [
        s.filed(msisdn=SPIKE),
        s.next(ev.AdjustmentProposed, reason="call charges beyond the other party's records", needs_approval=False,
               **common),
        s.next(ev.AdjustmentApplied, idempotency_key=f"{complaint_id}:r0:adj-1", ledger_id="ADJ-000001",
               effective=True, **common),
    ]
    await PostgresEventStore(audit_db.pool).append(complaint_id, events)
    return citations


async def test_verify_deep_refetches_the_cited_records_and_names_a_changed_one(audit_db: AuditDb, cli) -> None:
    citations = await _refund_case(audit_db, "CASE-EVIDENCE")
    run = cli(audit_db.url)

    clean = await run("verify", "CASE-EVIDENCE", "--deep")
    assert clean.code == 0, clean.out + clean.err
    assert "3 cited billing record(s)" in clean.out and "still hashes as cited" in clean.out

    await audit_db.pool.execute(
        "UPDATE boss.call_records SET duration_seconds = duration_seconds + 60 WHERE id = $1",
        int(citations[0].record_id),
    )
    changed = await run("verify", "CASE-EVIDENCE", "--deep")
    assert changed.code == 1
    evidence = [line for line in changed.out.splitlines() if line.startswith("EVIDENCE")]
    assert evidence == [
        f"EVIDENCE case CASE-EVIDENCE event 2 (adj-1) cites {citations[0].key}: its content changed: sha256 "
        f"{evidence[0].split('sha256 ')[1].split(' ')[0]} now, {citations[0].sha256} when cited"
    ]
    assert "1 cited record(s) gone or changed" in changed.out
    every = await run("verify", "--all", "--deep")
    assert every.code == 1 and sum(line.startswith("EVIDENCE") for line in every.out.splitlines()) == 1
    # Without --deep the chains alone are checked, and they hold.
    assert (await run("verify", "CASE-EVIDENCE")).code == 0

    await audit_db.pool.execute("DELETE FROM boss.daily_charges WHERE msisdn = $1 AND channel = 'web' AND day = $2",
                                OVERCHARGE_MSISDN, date.fromisoformat(citations[2].record_id.split("/")[2]))
    gone = await run("verify", "CASE-EVIDENCE", "--deep")
    assert "the billing system no longer holds this record" in gone.out


async def test_history_and_export_show_what_each_adjustment_cites(
    audit_db: AuditDb, cli, tmp_path: Path
) -> None:
    citations = await _refund_case(audit_db, "CASE-CITES")
    run = cli(audit_db.url)

    shown = await run("history", "CASE-CITES")
    assert shown.code == 0, shown.err
    cited_lines = [line.strip() for line in shown.out.splitlines() if line.strip().startswith("cites")]
    assert len(cited_lines) == 6  # three records under the proposal, three under the application
    assert f"cites charge   cdr {citations[0].record_id}  sha256 {citations[0].sha256}" in cited_lines
    assert all(OVERCHARGE_MSISDN not in line for line in cited_lines)  # numbers in record ids are masked

    exported = await run("export", "CASE-CITES", "-o", str(tmp_path / "case.json"))
    assert exported.code == 0, exported.err
    bundle = json.loads((tmp_path / "case.json").read_text(encoding="utf-8"))
    assert [e["type"] for e in bundle["evidence"]] == ["AdjustmentProposed", "AdjustmentApplied"]
    assert bundle["evidence"][1]["citations"] == [c.model_dump(mode="json") for c in citations]
    assert "record_sha256" in bundle["hash_rules"]


def test_the_timeline_says_where_a_charge_was_remedied_and_which_cases_are_linked() -> None:
    s = Stream("CASE-LATER")
    events = [
        s.filed(msisdn=SPIKE),
        s.next(ev.LinkedToCase, linked_complaint_ids=["CASE-FIRST"], reason="same number and category"),
        s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="refund", amount_fen=2280, reason="r",
               needs_approval=False),
        s.next(ev.AdjustmentAlreadyRemedied, adjustment_id="adj-1", charge_kind="cdr", charge_record_id="7",
               prior_complaint_id="CASE-FIRST",
               prior_ledger_id="ADJ-000042", prior_applied_at=datetime(2026, 11, 25, 17, 30, tzinfo=UTC),
               idempotency_key="CASE-LATER:r0:adj-1"),
    ]
    assert describe(events[1]) == "Linked to open case(s) of the same number and category: CASE-FIRST"
    assert describe(events[3]) == (
        "NOT applied adj-1: cdr:7 was already remedied on case CASE-FIRST on 2026-11-26 01:30:00, "
        "ledger ADJ-000042; no money moved"
    )
    none = Stream("CASE-ALONE")
    none.filed()
    alone = none.next(ev.LinkedToCase, reason="same number and category")
    assert describe(alone) == "No other open case of this number and category"
    state = fold(events)
    assert state is not None and "linked to open case(s) CASE-FIRST" in render_state(state)
