"""Citations: one hash per content, whatever the key order; the fold keeps them, and the links to other cases."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import events as ev
from domain.citations import Citation, charges, cite, record_hash
from domain.state import fold
from tests.domain.factories import T0, Stream


def test_the_hash_depends_on_the_content_not_on_its_key_order() -> None:
    assert record_hash({"a": 1, "b": "二"}) == record_hash({"b": "二", "a": 1})
    assert record_hash({"a": 1}) != record_hash({"a": 2})
    citation = cite("cdr", "42", {"id": 42, "charge_fen": 5820}, "charge")
    assert citation.key == "cdr:42" and len(citation.sha256) == 64
    with pytest.raises(ValidationError):
        Citation.model_validate({**citation.model_dump(), "sha256": "nope"})


def test_charges_are_the_cited_charges_in_key_order() -> None:
    cited = [
        cite("daily_charge", "139/web/2026-11-09", {}),
        cite("daily_charge", "139/billing/2026-11-10", {}, "charge"),
        cite("daily_charge", "139/billing/2026-11-09", {}, "charge"),
    ]
    assert [c.record_id for c in charges(cited)] == ["139/billing/2026-11-09", "139/billing/2026-11-10"]


def test_events_written_before_citations_still_parse() -> None:
    stream = Stream()
    stream.filed()
    proposed = stream.next(
        ev.AdjustmentProposed, adjustment_id="adj-1", kind="refund", amount_fen=100, reason="r", needs_approval=False
    )
    old = proposed.model_dump(mode="json")
    del old["citations"]
    assert ev.parse_event(old) == proposed and proposed.citations == []


def test_the_fold_keeps_citations_an_earlier_remedy_and_the_linked_cases() -> None:
    stream = Stream()
    charge = cite("cdr", "7", {"id": 7}, "charge")
    state = fold(
        [
            stream.filed(),
            stream.next(ev.LinkedToCase, linked_complaint_ids=["CASE-0000"], reason="same number and category"),
            stream.next(
                ev.AdjustmentProposed,
                adjustment_id="adj-1",
                kind="refund",
                amount_fen=2280,
                reason="r",
                needs_approval=False,
                citations=[charge],
            ),
            stream.next(
                ev.AdjustmentAlreadyRemedied,
                adjustment_id="adj-1",
                charge_kind=charge.kind,
                charge_record_id=charge.record_id,
                prior_complaint_id="CASE-0000",
                prior_ledger_id="ADJ-000001",
                prior_applied_at=T0,
                idempotency_key="CASE-0001:r0:adj-1",
            ),
        ]
    )
    assert state is not None
    adjustment = state.adjustments["adj-1"]
    assert adjustment.citations == [charge] and adjustment.status == "already_remedied"
    assert (adjustment.remedied_by, adjustment.remedied_ledger_id) == ("CASE-0000", "ADJ-000001")
    assert state.money_moved_fen == 0 and state.linked_cases == ["CASE-0000"]
