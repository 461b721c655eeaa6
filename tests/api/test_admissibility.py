"""POST troubleTicket with `disputedSince`: a billing dispute about charges older than 5 months is filed and answered
as a TMF `rejected` ticket naming the rule (GET and the list say the same); a day after today is a 400."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.clock import local_day
from domain.regulatory import months_before
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from tests.api.conftest import AGENT, BASE, ApiEngine, bearer
from tests.api.tickets import get_until, list_until

TICKETS = f"{BASE}/troubleTicket"
RULE = "MIIT: billing disputes older than 5 months are not accepted"


def today() -> date:
    return local_day(datetime.now(UTC))


def spike_ticket(disputed_since: str) -> dict[str, Any]:
    return {
        "@type": "ComplaintTroubleTicket", "description": "话费比平时高四倍", "severity": "Minor",
        "ticketType": "billing_spike", "disputedSince": disputed_since,
        "relatedParty": [{"role": "customer", "partyOrPartyRole": {
            "id": BILLING_SPIKE_CUSTOMER.msisdn, "name": BILLING_SPIKE_CUSTOMER.name, "@type": "PartyRoleRef"}}],
    }


async def test_a_six_month_old_billing_dispute_is_a_rejected_ticket_with_the_rule(api_engine: ApiEngine) -> None:
    http, six_months_ago = api_engine.http, months_before(today(), 6)
    filed = await http.post(TICKETS, json=spike_ticket(six_months_ago.isoformat()), headers=bearer(AGENT))
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]

    ticket = await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] == "rejected", "rejected")
    assert [change["status"] for change in ticket["statusChangeHistory"]] == ["acknowledged", "rejected"]
    assert ticket["statusChangeReason"].startswith(f"REJECTED at intake: {RULE}: ")
    assert ticket["engineStatus"] == "closed" and ticket["disputedSince"] == six_months_ago.isoformat()
    assert ticket["rejection"] == {
        "@type": "ComplaintRejection", "rule": RULE, "oldestAccepted": months_before(today(), 5).isoformat(),
        "reason": f"the disputed charges date from {six_months_ago}, before {months_before(today(), 5)}"}
    assert [clock["standing"] for clock in ticket["regulatoryClock"]] == ["answered"]

    await list_until(
        http, {"status": "rejected", "ticketType": "billing_spike", "limit": 100}, bearer(AGENT),
        lambda rows: ticket_id in [row["id"] for row in rows], "the rejected ticket",
    )


async def test_a_four_month_old_billing_dispute_is_worked(api_engine: ApiEngine) -> None:
    filed = await api_engine.http.post(TICKETS, json=spike_ticket(months_before(today(), 4).isoformat()),
                                       headers=bearer(AGENT))
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    assert ticket["status"] != "rejected" and "rejection" not in ticket
    await api_engine.client.temporal.get_workflow_handle(ticket["id"]).terminate("test over")


async def test_a_disputed_day_after_today_or_not_a_day_is_400_and_files_nothing(api_engine: ApiEngine) -> None:
    headers = {**bearer(AGENT), "Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for written, said in ((tomorrow, "is after today"), ("2026-02-30", "not a day of the calendar")):
        refused = await api_engine.http.post(TICKETS, json=spike_ticket(written), headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"].startswith("disputed_since: ") and said in refused.json()["message"]
    # The key was not used up by the refusals: the same key files the corrected body.
    fixed = await api_engine.http.post(TICKETS, json=spike_ticket(months_before(today(), 7).isoformat()),
                                       headers=headers)
    assert fixed.status_code == 201 and fixed.json()["status"] == "rejected", fixed.text
