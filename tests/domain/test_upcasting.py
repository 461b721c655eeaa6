"""Event versions mean something: an older version's JSON form is read in the current shape."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from domain import events as ev
from domain.actors import ENGINE
from domain.upcasting import current_version, upcast, upcaster

V1_ALREADY_REMEDIED: dict[str, Any] = {
    "type": "AdjustmentAlreadyRemedied",
    "version": 1,
    "complaint_id": "CASE-0001",
    "seq": 9,
    "at": "2026-11-25T09:00:00Z",
    "actor": {"id": "engine", "role": "system", "channel": "engine"},
    "adjustment_id": "adj-1",
    "charge": "cdr:SW1:000042",  # a record id may hold ':' itself
    "prior_complaint_id": "CASE-0000",
    "prior_ledger_id": "ADJ-000001",
    "prior_applied_at": "2026-11-20T08:00:00Z",
    "idempotency_key": "CASE-0001:r0:adj-1",
}


def test_a_v1_form_is_split_into_the_v2_fields_and_the_stored_form_is_left_alone() -> None:
    stored = json.loads(json.dumps(V1_ALREADY_REMEDIED))
    current = upcast(stored)
    assert stored == V1_ALREADY_REMEDIED
    assert current["version"] == 2 and "charge" not in current
    assert (current["charge_kind"], current["charge_record_id"]) == ("cdr", "SW1:000042")


def test_reading_a_v1_event_gives_the_v2_event() -> None:
    event = ev.parse_event(json.dumps(V1_ALREADY_REMEDIED))
    assert isinstance(event, ev.AdjustmentAlreadyRemedied) and event.version == 2
    assert (event.charge_kind, event.charge_record_id, event.charge) == ("cdr", "SW1:000042", "cdr:SW1:000042")
    dumped = event.model_dump(mode="json")
    assert dumped["version"] == 2 and "charge" not in dumped
    assert ev.parse_event(dumped) == event  # the current form reads as itself


def test_a_v1_form_that_cannot_be_split_is_refused_clearly() -> None:
    with pytest.raises(ValidationError, match="needs a 'kind:record_id' charge"):
        ev.parse_event({**V1_ALREADY_REMEDIED, "charge": "no-kind"})


def test_forms_without_a_step_pass_unchanged() -> None:
    filed_like = {"type": "NoteAdded", "version": 1, "text": "hello"}
    assert upcast(filed_like) == filed_like
    no_version = {"type": "AdjustmentAlreadyRemedied", "charge_kind": "cdr"}
    assert upcast(no_version) == no_version  # a form without its version is the current one


def test_every_event_is_written_in_the_version_its_steps_lead_to() -> None:
    members = typing.get_args(typing.get_args(ev.AnyEvent)[0])
    assert len(members) > 30
    for member in members:
        name = member.model_fields["type"].default
        assert member.model_fields["version"].default == current_version(name), name


def test_a_second_step_for_the_same_version_is_refused() -> None:
    with pytest.raises(ValueError, match="already has an upcaster"):
        upcaster("AdjustmentAlreadyRemedied", 1)(lambda data: data)


def test_an_event_made_in_code_is_current() -> None:
    made = ev.AdjustmentAlreadyRemedied(
        complaint_id="C-1", seq=2, at=datetime(2026, 1, 1, tzinfo=UTC), actor=ENGINE,
        adjustment_id="adj-1", charge_kind="sale", charge_record_id="13800000000", prior_complaint_id="C-0",
        prior_ledger_id="L-1", prior_applied_at=datetime(2026, 1, 1, tzinfo=UTC), idempotency_key="k",
    )
    assert made.version == 2 and made.charge == "sale:13800000000"
