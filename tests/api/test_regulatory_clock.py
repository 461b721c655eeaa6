"""GET one ticket carries the regulator's clocks (ComplaintRegulatoryClock), read from the case's events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.regulatory_clocks import regulatory_clocks
from domain.state import fold
from tests.api.conftest import AGENT, BASE, ApiEngine, bearer
from tests.domain.factories import regulated_case


async def test_a_ticket_shows_the_miit_deadline_and_each_partner_window(api_engine: ApiEngine) -> None:
    complaint_id = f"REG-{uuid.uuid4().hex[:8]}"
    events = regulated_case(complaint_id, filed_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=10))
    await api_engine.context.store.append(complaint_id, events)
    state = fold(events)
    assert state is not None
    expected = regulatory_clocks(state, events)

    response = await api_engine.http.get(f"{BASE}/troubleTicket/{complaint_id}", headers=bearer(AGENT))
    assert response.status_code == 200, response.text
    clocks = response.json()["regulatoryClock"]
    assert [clock["clock"] for clock in clocks] == [
        "miit_answer", f"partner_window:{complaint_id}:lookup", f"partner_window:{complaint_id}:cancel"]
    assert {clock["@type"] for clock in clocks} == {"ComplaintRegulatoryClock"}
    assert [clock["standing"] for clock in clocks] == ["warned", "answered", "breached"]
    assert [datetime.fromisoformat(clock["dueAt"]) for clock in clocks] == [clock.due_at for clock in expected]
    assert clocks[0]["escalateTo"] == "regional_support" and clocks[2]["escalateTo"] == "partner_desk"

    only = await api_engine.http.get(f"{BASE}/troubleTicket/{complaint_id}", params={"fields": "regulatoryClock"},
                                     headers=bearer(AGENT))
    assert set(only.json()) == {"id", "href", "@type", "regulatoryClock"}
