"""The console's remediation campaigns (progress, a supervisor's pause and resume, an agent refused) and, on
one of the campaign's cases, its regulatory clocks and the customer's answer relayed on their behalf."""

from __future__ import annotations

import asyncio

import httpx

from client.remediation import RemediationClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.remediation import remediation_case_id
from tests.console.conftest import RunningConsole
from tests.helpers import wait_for_question, wait_until
from tests.identity import signed
from tests.remediation.batches import small_batch

SUPERVISOR = Actor(id="sup-li", role=Role.SUPERVISOR)
AGENT = Actor(id="agent-chen", role=Role.AGENT)


def as_(actor: Actor, console: RunningConsole) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(actor)}, timeout=30)


async def test_a_supervisor_watches_pauses_and_resumes_a_campaign_and_an_agent_may_not(
    console: RunningConsole,
) -> None:
    engine = console.engine
    batch_id = await small_batch(engine.pool)
    campaigns = RemediationClient(engine.client.temporal, task_queue=engine.task_queue)
    # One case a minute, pages of two: after its first page the campaign waits two (real) minutes.
    handle = await campaigns.start(batch_id, signed(SUPERVISOR), cases_per_minute=1, page_size=2)
    try:
        for _ in range(600):
            if (await campaigns.status(batch_id)).assessed:
                break
            await asyncio.sleep(0.05)

        async with as_(AGENT, console) as agent:
            listed = await agent.get("/console/campaigns")
            assert listed.status_code == 200 and f'data-batch="{batch_id}"' in listed.text
            assert "started by sup-li" not in listed.text and "running" in listed.text
            detail = await agent.get(f"/console/campaigns/{batch_id}")
            assert "Pause the campaign" not in detail.text and "Only a supervisor" in detail.text
            forged = await agent.post(f"/console/campaigns/{batch_id}/pause", data={"reason": "mine"})
            assert forged.status_code == 403 and "agent cannot pause" in forged.text
            assert not (await campaigns.status(batch_id)).paused
            missing = await agent.get("/console/campaigns/NO-SUCH-BATCH")
            assert missing.status_code == 404

        async with as_(SUPERVISOR, console) as supervisor:
            detail = await supervisor.get(f"/console/campaigns/{batch_id}")
            assert "Pause the campaign" in detail.text and "/20 numbers" in detail.text
            paused = await supervisor.post(f"/console/campaigns/{batch_id}/pause",
                                           data={"reason": "billing system maintenance"}, follow_redirects=True)
            assert paused.status_code == 200 and f"paused the campaign of {batch_id}" in paused.text
            assert "by sup-li: billing system maintenance" in paused.text and "Resume the campaign" in paused.text
            assert (await campaigns.status(batch_id)).paused_by == "sup-li"
            # htmx's timed refresh asks for the table alone; it says the cases by status the read model counts.
            fragment = await supervisor.get(f"/console/campaigns/{batch_id}",
                                            headers={"HX-Target": "campaigns-body"})
            assert "<html" not in fragment.text and 'class="counts"' in fragment.text and "paused" in fragment.text
            resumed = await supervisor.post(f"/console/campaigns/{batch_id}/resume", data={"reason": "back"},
                                            follow_redirects=True)
            assert f"resumed the campaign of {batch_id}" in resumed.text
            assert not (await campaigns.status(batch_id)).paused
    finally:
        await handle.terminate("test over")


async def test_an_agent_relays_the_customers_answer_and_sees_the_regulatory_clocks(console: RunningConsole) -> None:
    engine = console.engine
    batch_id = await small_batch(engine.pool)
    campaigns = RemediationClient(engine.client.temporal, task_queue=engine.task_queue)
    handle = await campaigns.start(batch_id, signed(SUPERVISOR), cases_per_minute=6000, page_size=5)
    case_id = remediation_case_id(batch_id, 1)  # position 1: a shortened number, remedied, then asked to confirm
    try:
        await handle.result()
        await wait_for_question(engine.client, case_id, "confirm-resolution")
        async with as_(AGENT, console) as agent:
            page = await agent.get(f"/console/cases/{case_id}")
            assert page.status_code == 200
            assert "<code>confirm-resolution</code>" in page.text and 'value="yes"' in page.text
            assert "closes unconfirmed" in page.text  # as `show` says it
            assert 'data-clock="miit_answer"' in page.text
            # Resolved by the remedy: the carrier has answered, the regulator's clock stopped (`show`'s line).
            assert ">answered</span>\n  MIIT answer deadline: <code>miit_answer" in page.text
            answered = await agent.post(f"/console/cases/{case_id}/answer",
                                        data={"question_id": "confirm-resolution", "answer": "yes",
                                              "comment": "the customer says the validity is back"})
            assert answered.status_code == 303 and "on%20behalf%20of%20the%20customer" in answered.headers["location"]
    finally:
        if not (await handle.describe()).close_time:
            await handle.terminate("test over")

    view = await wait_until(engine.client, case_id,
                            lambda v: any(isinstance(e, ev.CustomerAnswered) for e in v.timeline), "the answer",
                            closed_fails=False)
    (relayed,) = [e for e in view.timeline if isinstance(e, ev.CustomerAnswered)]
    assert (relayed.actor.id, relayed.on_behalf_of, relayed.answer) == ("agent-chen", "customer", "yes")
