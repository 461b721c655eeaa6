"""The task endpoints under a ticket go through the case's own commands, with the caller's token."""

from __future__ import annotations

from domain.actors import Actor, Role
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.api.conftest import AGENT, AUDITOR, BASE, SUPERVISOR, ApiEngine, bearer, customer
from tests.api.tickets import forwarding_ticket, get_until

TICKETS = f"{BASE}/troubleTicket"
OWNER = customer(FORWARDING_CUSTOMER.msisdn)


async def test_reassign_resolve_confirm_and_reopen(api_engine: ApiEngine) -> None:
    http = api_engine.http
    ticket_id = (await http.post(TICKETS, json=forwarding_ticket(), headers=bearer(AGENT))).json()["id"]
    await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] == "pending", "pending")
    task = f"{TICKETS}/{ticket_id}"

    assert (await http.post(f"{task}/reassign", json={"assignee": "agent-li"}, headers=OWNER)).status_code == 403
    moved = await http.post(f"{task}/reassign", json={"assignee": "agent-li", "reason": "shift change"},
                            headers=bearer(SUPERVISOR))
    assert moved.status_code == 200, moved.text
    assert moved.json()["href"].endswith(f"/troubleTicket/{ticket_id}")
    ticket = (await http.get(task, headers=bearer(AGENT))).json()
    assert ticket["assignee"] == "agent-li"

    # Adjustments the case never proposed: the case itself refuses, and nothing changes.
    for verb in ("approve", "refuse"):
        refused = await http.post(f"{task}/adjustment/ADJ-none/{verb}", json={"reason": "x"},
                                  headers=bearer(SUPERVISOR))
        assert refused.status_code == 409, refused.text
    assert (await http.post(f"{task}/adjustment/ADJ-none/approve", json={}, headers=bearer(AUDITOR))
            ).status_code == 403

    resolved = await http.post(f"{task}/resolve", json={"outcome": "forwarding_cancelled", "summary": "已取消呼转"},
                               headers=bearer(Actor(id="agent-li", role=Role.AGENT)))
    assert resolved.status_code == 200, resolved.text
    asked = await get_until(http, ticket_id, OWNER,
                            lambda t: "resolved" in [c["status"] for c in t["statusChangeHistory"]]
                            and t.get("pendingQuestion") is not None, "resolved, asking to confirm")
    question = asked["pendingQuestion"]
    confirm = question["options"][0]
    answered = await http.post(f"{task}/answer", json={"questionId": question["questionId"], "answer": confirm},
                               headers=OWNER)
    assert answered.status_code == 200, answered.text
    await get_until(http, ticket_id, OWNER, lambda t: t["status"] == "closed", "closed")

    reopened = await http.post(f"{task}/reopen", json={"reason": "还是接不到电话"}, headers=OWNER)
    assert reopened.status_code == 202, reopened.text
    assert reopened.json()["result"].startswith("reopened as run ")
    again = await get_until(http, ticket_id, bearer(AGENT), lambda t: t["status"] not in ("closed",), "reopened")
    history = [change["status"] for change in again["statusChangeHistory"]]
    assert history.index("closed") < len(history) - 1
    await api_engine.client.temporal.get_workflow_handle(ticket_id).terminate("test over")
