"""The engine <-> TMF621 status table, read both ways."""

from __future__ import annotations

import pytest

from domain.cases import Status
from domain.tmf_status import (
    STATUS_TABLE,
    CloseKind,
    TmfStatus,
    UnmappedStatus,
    close_kind,
    engine_statuses,
    tmf_status,
)


def test_every_open_engine_status_has_one_tmf_status() -> None:
    for status in Status:
        if status is Status.CLOSED:
            continue
        assert isinstance(tmf_status(status), TmfStatus)


def test_every_close_kind_has_one_tmf_status() -> None:
    for kind in CloseKind:
        assert tmf_status(Status.CLOSED, kind.value) in {TmfStatus.CLOSED, TmfStatus.CANCELLED, TmfStatus.REJECTED}


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (Status.FILED, None, TmfStatus.ACKNOWLEDGED),
        (Status.INVESTIGATING, None, TmfStatus.IN_PROGRESS),
        (Status.AWAITING_CUSTOMER, None, TmfStatus.PENDING),
        (Status.AWAITING_APPROVAL, None, TmfStatus.HELD),
        (Status.NEEDS_ATTENTION, None, TmfStatus.HELD),
        (Status.RESOLVED, None, TmfStatus.RESOLVED),
        (Status.CLOSED, "confirmed", TmfStatus.CLOSED),
        (Status.CLOSED, "withdrawn", TmfStatus.CANCELLED),
        (Status.CLOSED, "rejected", TmfStatus.REJECTED),
        (Status.CLOSED, "workflow_terminated", TmfStatus.CANCELLED),
    ],
)
def test_engine_to_tmf(status: Status, reason: str | None, expected: TmfStatus) -> None:
    assert tmf_status(status, reason) is expected


def test_every_tmf_status_stands_for_some_engine_status_and_maps_back() -> None:
    for status in TmfStatus:
        rows = engine_statuses(status)
        assert rows, f"TMF status {status} is never shown"
        for engine, kind in rows:
            assert tmf_status(engine, kind.value if kind else None) is status


def test_the_table_has_no_duplicate_engine_row() -> None:
    keys = [(engine, kind) for engine, kind, _ in STATUS_TABLE]
    assert len(keys) == len(set(keys))


def test_an_unknown_close_reason_is_refused_not_guessed() -> None:
    with pytest.raises(UnmappedStatus):
        close_kind("eaten_by_a_grue")
