"""TMF621 troubleTicket over a real engine: file, follow, list, patch and the task endpoints, with tokens."""

from __future__ import annotations

import asyncio
import uuid

from auth.tokens import SigningKey
from domain.masking import mask_msisdn
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.api.conftest import AGENT, AUDITOR, BASE, SUPERVISOR, ApiEngine, bearer, customer
from tests.api.tickets import forwarding_ticket, get_until

OTHER_NUMBER = "13905716601"
TICKETS = f"{BASE}/troubleTicket"


async def test_every_call_needs_a_verified_token_and_a_role(api_engine: ApiEngine) -> None:
    http = api_engine.http
    missing = await http.get(TICKETS)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    body = missing.json()
    assert body["@type"] == "Error" and body["code"] == "401" and body["status"] == "401" and body["reason"]

    forged = bearer(SUPERVISOR, key=SigningKey.generate("not-trusted"))
    refused = await http.get(TICKETS, headers=forged)
    assert refused.status_code == 401 and "does not trust" in refused.json()["message"]

    auditor_files = await http.post(TICKETS, json=forwarding_ticket(), headers=bearer(AUDITOR))
    assert auditor_files.status_code == 403 and auditor_files.json()["reason"] == "Forbidden"

    # Whatever goes wrong, the answer is a TMF error body.
    for response, status in (
        (await http.get(f"{BASE}/nowhere", headers=bearer(AGENT)), 404),
        (await http.delete(f"{TICKETS}/TT-x", headers=bearer(AGENT)), 405),
        (await http.post(TICKETS, content="{not json", headers={**bearer(AGENT), "Content-Type": "application/json"}),
         400),
        (await http.get(TICKETS, params={"limit": 0}, headers=bearer(AGENT)), 400),
    ):
        assert response.status_code == status, response.text
        assert response.json()["code"] == str(status) and response.json()["@type"] == "Error"


async def test_idempotency_key_same_body_same_ticket_other_body_409(api_engine: ApiEngine) -> None:
    http, key = api_engine.http, f"key-{uuid.uuid4().hex}"
    headers = {**bearer(AGENT), "Idempotency-Key": key}
    # A body the engine refuses does not use up the key.
    refused = await http.post(TICKETS, json=forwarding_ticket(ticketType="weather"), headers=headers)
    assert refused.status_code == 400 and "category" in refused.json()["message"], refused.text
    first = await http.post(TICKETS, json=forwarding_ticket(), headers=headers)
    assert first.status_code == 201, first.text
    ticket = first.json()
    assert ticket["ticketType"] == "forwarding_cancel" and ticket["severity"] == "Major"
    assert ticket["href"].endswith(f"/troubleTicket/{ticket['id']}") and first.headers["Location"] == ticket["href"]
    again = await http.post(TICKETS, json=forwarding_ticket(), headers=headers)
    assert again.status_code == 201 and again.json()["id"] == ticket["id"]
    other = await http.post(TICKETS, json=forwarding_ticket(description="另一件事"), headers=headers)
    assert other.status_code == 409 and ticket["id"] in other.json()["message"]
    # The same key is another caller's own key: it files another ticket.
    theirs = await http.post(TICKETS, json=forwarding_ticket(), headers={**bearer(SUPERVISOR), "Idempotency-Key": key})
    assert theirs.status_code == 201 and theirs.json()["id"] != ticket["id"]
    for case_id in (ticket["id"], theirs.json()["id"]):
        await api_engine.client.temporal.get_workflow_handle(case_id).terminate("test over")


async def test_a_ticket_is_followed_answered_noted_and_cancelled(api_engine: ApiEngine) -> None:
    http = api_engine.http
    filed = await http.post(TICKETS, json=forwarding_ticket(), headers=bearer(AGENT))
    assert filed.status_code == 201, filed.text
    ticket_id = filed.json()["id"]

    # The case asks the customer a question: TMF shows it as pending, with the status history from the events.
    pending = await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] == "pending", "pending")
    history = [change["status"] for change in pending["statusChangeHistory"]]
    assert history[0] == "acknowledged" and history[-1] == "pending"
    for change in pending["statusChangeHistory"]:
        assert change["@type"] == "StatusChange" and change["statusChangeDate"] and change["statusChangeReason"]
    assert pending["@type"] == "ComplaintTroubleTicket" and pending["@baseType"] == "TroubleTicket"
    party = pending["relatedParty"][0]
    assert party["role"] == "customer" and party["partyOrPartyRole"]["id"] == mask_msisdn(FORWARDING_CUSTOMER.msisdn)
    assert any(entity["role"] == "partnerRequest" for entity in pending["relatedEntity"])
    question = pending["pendingQuestion"]

    # Another customer cannot see it; the customer can, with their own number in clear.
    assert (await http.get(f"{TICKETS}/{ticket_id}", headers=customer(OTHER_NUMBER))).status_code == 404
    own = await http.get(f"{TICKETS}/{ticket_id}", headers=customer(FORWARDING_CUSTOMER.msisdn))
    assert own.status_code == 200
    assert own.json()["relatedParty"][0]["partyOrPartyRole"]["id"] == FORWARDING_CUSTOMER.msisdn
    # An auditor without the pii:read scope sees the name masked too.
    audited = (await http.get(f"{TICKETS}/{ticket_id}", headers=bearer(AUDITOR))).json()
    assert FORWARDING_CUSTOMER.name not in str(audited) and FORWARDING_CUSTOMER.msisdn not in str(audited)

    # A note through merge-patch, then the customer answers through the task endpoint.
    noted = await http.patch(
        f"{TICKETS}/{ticket_id}", content='{"note": [{"text": "客户来电催促", "@type": "Note"}]}',
        headers={**bearer(AGENT), "Content-Type": "application/merge-patch+json"},
    )
    assert noted.status_code == 200, noted.text
    assert [note["text"] for note in noted.json()["note"]] == ["客户来电催促"]
    assert noted.json()["note"][0]["author"] == AGENT.id

    wrong = await http.post(f"{TICKETS}/{ticket_id}/answer", json={"questionId": "no-such", "answer": "x"},
                            headers=customer(FORWARDING_CUSTOMER.msisdn))
    assert wrong.status_code == 409, wrong.text
    answered = await http.post(
        f"{TICKETS}/{ticket_id}/answer", json={"questionId": question["questionId"], "answer": question["options"][0]},
        headers=customer(FORWARDING_CUSTOMER.msisdn),
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["@type"] == "ComplaintTaskResult"

    closed = await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] == "closed", "closed")
    assert "pending" in [change["status"] for change in closed["statusChangeHistory"]]
    # A closed ticket takes no change: the case refuses, and the API says so.
    late = await http.patch(f"{TICKETS}/{ticket_id}", json={"status": "cancelled"}, headers=bearer(SUPERVISOR))
    assert late.status_code == 409 and "closed" in late.json()["message"]


async def test_cancelling_withdraws_the_case_and_held_is_the_engines(api_engine: ApiEngine) -> None:
    http = api_engine.http
    filed = await http.post(TICKETS, json=forwarding_ticket(), headers=bearer(AGENT))
    ticket_id = filed.json()["id"]
    await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] == "pending", "pending")
    held = await http.patch(f"{TICKETS}/{ticket_id}", json={"status": "held"}, headers=bearer(AGENT))
    assert held.status_code == 409 and "engine's to set" in held.json()["message"]
    auditor = await http.patch(f"{TICKETS}/{ticket_id}", json={"status": "cancelled"}, headers=bearer(AUDITOR))
    assert auditor.status_code == 403
    cancelled = await http.patch(
        f"{TICKETS}/{ticket_id}", json={"status": "cancelled", "statusChangeReason": "客户撤诉"},
        headers=bearer(SUPERVISOR),
    )
    assert cancelled.status_code == 200, cancelled.text
    final = await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] in ("cancelled", "closed"), "ended")
    assert final["status"] == "cancelled" and final["engineStatus"] == "closed", final["statusChangeHistory"]


async def test_the_list_pages_filters_and_counts(api_engine: ApiEngine) -> None:
    http = api_engine.http
    ids = []
    for _ in range(3):
        response = await http.post(TICKETS, json=forwarding_ticket(msisdn=OTHER_NUMBER), headers=bearer(AGENT))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    query = {"relatedParty.id": OTHER_NUMBER, "ticketType": "forwarding_cancel", "severity": "Major"}
    for _ in range(100):  # visibility is eventually consistent
        listed = await http.get(TICKETS, params=query, headers=bearer(SUPERVISOR))
        assert listed.status_code == 200, listed.text
        if set(ids) <= {row["id"] for row in listed.json()}:
            break
        await asyncio.sleep(0.1)
    total = int(listed.headers["X-Total-Count"])
    assert total >= 3 and int(listed.headers["X-Result-Count"]) == len(listed.json()) == total

    page = await http.get(TICKETS, params={**query, "offset": 1, "limit": 1, "fields": "status"},
                          headers=bearer(SUPERVISOR))
    assert page.headers["X-Total-Count"] == str(total) and page.headers["X-Result-Count"] == "1"
    (row,) = page.json()
    assert set(row) == {"id", "href", "@type", "status"}

    # A customer lists only their own number's tickets, whatever number they ask for.
    theirs = await http.get(TICKETS, params={"relatedParty.id": OTHER_NUMBER},
                            headers=customer(FORWARDING_CUSTOMER.msisdn))
    assert theirs.status_code == 200 and not set(ids) & {row["id"] for row in theirs.json()}
    mine = await http.get(TICKETS, headers=customer(OTHER_NUMBER))
    assert set(ids) <= {row["id"] for row in mine.json()}

    by_status = await http.get(TICKETS, params={**query, "status": "closed"}, headers=bearer(SUPERVISOR))
    assert not set(ids) & {row["id"] for row in by_status.json()}
    for case_id in ids:
        await api_engine.client.temporal.get_workflow_handle(case_id).terminate("test over")
