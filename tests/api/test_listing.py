"""GET troubleTicket pages the `complaints` read model in SQL: cases written through the real event store
(which keeps the read model in the same transaction), then listed, filtered, counted and paged over HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import events as ev
from domain.actors import ENGINE
from domain.cases import Category, Priority
from domain.tmf_status import TmfStatus
from tests.api.conftest import AGENT, BASE, SUPERVISOR, ApiEngine, bearer, customer
from tests.domain.factories import Stream

TICKETS = f"{BASE}/troubleTicket"
FIRST, SECOND = "13905719901", "13905719902"


async def _write_cases(api_engine: ApiEngine, tag: str) -> dict[str, str]:
    """Five cases of FIRST's number and one of SECOND's, each ending in a different TMF status.

    Returns the TMF status each id should list with."""
    expected: dict[str, str] = {}
    base = datetime.now(UTC).replace(microsecond=0)
    # Filed a minute apart: their deadlines differ, so the order is known.

    async def case(name: str, status: TmfStatus, *, number: str = FIRST, priority: Priority = Priority.HIGH,
                   ending: list[tuple[type[ev.Event], dict[str, object]]] | None = None) -> None:
        complaint_id = f"LST-{tag}-{name}"
        s = Stream(complaint_id)
        s.at = base + timedelta(minutes=len(expected))
        events: list[ev.Event] = [
            s.filed(msisdn=number, category=Category.BILLING_SPIKE, priority=priority),
            s.next(ev.ComplaintAcknowledged, assignee=AGENT.id, message="we are on it"),
        ]
        events += [s.next(kind, **fields) for kind, fields in ending or []]
        await api_engine.context.store.append(complaint_id, events)
        expected[complaint_id] = status.value

    await case("ack", TmfStatus.ACKNOWLEDGED)
    await case("withdrawn", TmfStatus.CANCELLED, ending=[(ev.ComplaintClosed, {"reason": "withdrawn"})])
    await case("closed", TmfStatus.CLOSED, ending=[(ev.ComplaintClosed, {"reason": "confirmed"})])
    await case("stopped", TmfStatus.CANCELLED, ending=[(ev.CaseReconciled, {
        "run_id": "r1", "execution_status": "terminated", "stopped_at": base, "actor": ENGINE})])
    await case("minor", TmfStatus.ACKNOWLEDGED, priority=Priority.NORMAL)
    await case("other", TmfStatus.ACKNOWLEDGED, number=SECOND)
    return expected


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


async def test_the_list_is_the_read_model_filtered_paged_and_counted(api_engine: ApiEngine, tag: str) -> None:
    http = api_engine.http
    expected = await _write_cases(api_engine, tag)
    mine = {case_id: status for case_id, status in expected.items() if not case_id.endswith("-other")}
    ask = {"relatedParty.id": FIRST, "ticketType": "billing_spike"}

    listed = await http.get(TICKETS, params=ask, headers=bearer(SUPERVISOR))
    assert listed.status_code == 200, listed.text
    rows = [row for row in listed.json() if row["id"] in expected]
    # Each case's TMF status, from its engine status and why it closed; soonest deadline first (none last).
    assert {row["id"]: row["status"] for row in rows} == mine
    order = [(row.get("expectedResolutionDate") or "~", row["id"]) for row in listed.json()]
    assert order == sorted(order)
    total = int(listed.headers["X-Total-Count"])
    assert total >= len(mine) and listed.headers["X-Result-Count"] == str(len(listed.json()))

    # Paging: the same order, one at a time, and the count of the whole match on every page.
    paged = []
    for offset in range(total):
        page = await http.get(TICKETS, params={**ask, "offset": offset, "limit": 1}, headers=bearer(SUPERVISOR))
        assert page.headers["X-Total-Count"] == str(total) and page.headers["X-Result-Count"] == "1"
        paged += [row["id"] for row in page.json()]
    assert paged == [row["id"] for row in listed.json()]
    beyond = await http.get(TICKETS, params={**ask, "offset": total}, headers=bearer(SUPERVISOR))
    assert beyond.json() == [] and beyond.headers["X-Total-Count"] == str(total)

    # A TMF status filter is the status table read backwards, closed cases by why they closed.
    for status in ("cancelled", "closed", "acknowledged"):
        response = await http.get(TICKETS, params={**ask, "status": status}, headers=bearer(SUPERVISOR))
        got = {row["id"] for row in response.json() if row["id"] in expected}
        assert got == {case_id for case_id, want in mine.items() if want == status}, status
        assert all(row["status"] == status for row in response.json())
    minor = await http.get(TICKETS, params={**ask, "severity": "Minor"}, headers=bearer(SUPERVISOR))
    assert {row["id"] for row in minor.json()} == {f"LST-{tag}-minor"}


async def test_a_customer_lists_only_their_own_number(api_engine: ApiEngine, tag: str) -> None:
    http = api_engine.http
    expected = await _write_cases(api_engine, tag)
    # Whatever number they ask for, a customer sees their own number's tickets.
    theirs = await http.get(TICKETS, params={"relatedParty.id": FIRST}, headers=customer(SECOND))
    assert theirs.status_code == 200, theirs.text
    assert {row["id"] for row in theirs.json()} & set(expected) == {f"LST-{tag}-other"}
    assert int(theirs.headers["X-Total-Count"]) == len(theirs.json())
    mine = await http.get(TICKETS, headers=customer(FIRST))
    assert {row["id"] for row in mine.json()} >= set(expected) - {f"LST-{tag}-other"}


async def test_a_bad_number_is_400(api_engine: ApiEngine) -> None:
    response = await api_engine.http.get(TICKETS, params={"relatedParty.id": "12345"}, headers=bearer(AGENT))
    assert response.status_code == 400 and response.json()["status"] == "400", response.text
