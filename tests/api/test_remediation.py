"""The remediation campaign over HTTP (/remediation/v1), on the dev server with a real worker: the dry run's
plan, a supervisor-only start that opens one case per harmed number, its status, pause and resume."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx

from api.app import create_app
from client.api import ClientOptions, ComplaintClient
from client.remediation import case_counts
from domain.actors import Actor, Role
from domain.remediation import campaign_id
from tests.api.conftest import AGENT, SUPERVISOR, ApiEngine, bearer
from tests.conftest import TOKEN_KEY
from tests.remediation.batches import HARMED_OF_20, small_batch

CAMPAIGN = "/remediation/v1/campaign"
MANAGER = Actor(id="mgr-api", role=Role.STORE_MANAGER)


async def _status_until(api_engine: ApiEngine, batch_id: str, ready: str) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for _ in range(600):
        response = await api_engine.http.get(f"{CAMPAIGN}/{batch_id}", headers=bearer(SUPERVISOR))
        assert response.status_code == 200, response.text
        status = response.json()
        if status["state"] == ready and sum(status["casesByStatus"].values()) >= status["opened"]:
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"the campaign of {batch_id} never got {ready}: {status}")


async def test_a_dry_run_plans_and_opens_nothing(api_engine: ApiEngine) -> None:
    http, pool = api_engine.http, api_engine.context.pool
    batch_id = await small_batch(pool)
    response = await http.post(CAMPAIGN, json={"batchId": batch_id, "dryRun": True}, headers=bearer(SUPERVISOR))
    assert response.status_code == 200, response.text
    plan = response.json()
    assert (plan["@type"], plan["numbers"], plan["harmed"]) == ("RemediationPlan", 20, HARMED_OF_20)
    assert plan["byRemedy"] == {"restore_validity": 12, "restore_validity_and_reactivate": 4}
    assert plan["clawedBackFen"] == HARMED_OF_20 * 1000 and plan["refundFen"] == 0
    assert f"20 numbers touched, {HARMED_OF_20} harmed" in plan["summary"]
    assert await case_counts(pool, batch_id) == {}
    status = await http.get(f"{CAMPAIGN}/{batch_id}", headers=bearer(SUPERVISOR))
    assert status.status_code == 404, status.text  # no campaign started

    unknown = await http.post(CAMPAIGN, json={"batchId": "NO-SUCH-BATCH", "dryRun": True}, headers=bearer(SUPERVISOR))
    assert unknown.status_code == 404 and "no batch NO-SUCH-BATCH" in unknown.json()["message"]


async def test_only_a_supervisor_starts_pauses_or_reads_a_campaign(api_engine: ApiEngine) -> None:
    http = api_engine.http
    batch_id = await small_batch(api_engine.context.pool)
    for call in (http.post(CAMPAIGN, json={"batchId": batch_id}, headers=bearer(AGENT)),
                 http.get(f"{CAMPAIGN}/{batch_id}", headers=bearer(AGENT)),
                 http.post(f"{CAMPAIGN}/{batch_id}/pause", json={}, headers=bearer(AGENT))):
        refused = await call
        assert refused.status_code == 403, refused.text
    anonymous = await http.post(CAMPAIGN, json={"batchId": batch_id})
    assert anonymous.status_code == 401
    unknown = await http.post(CAMPAIGN, json={"batchId": "NO-SUCH-BATCH"}, headers=bearer(SUPERVISOR))
    assert unknown.status_code == 404, unknown.text
    assert await case_counts(api_engine.context.pool, batch_id) == {}


async def test_a_campaign_opens_a_case_per_harmed_number_and_a_rerun_opens_nothing(api_engine: ApiEngine) -> None:
    http, pool = api_engine.http, api_engine.context.pool
    batch_id = await small_batch(pool)
    body = {"batchId": batch_id, "casesPerMinute": 60_000, "pageSize": 5}
    started = await http.post(CAMPAIGN, json=body, headers=bearer(MANAGER))
    assert started.status_code == 202, started.text
    assert started.headers["Location"].endswith(f"{CAMPAIGN}/{batch_id}")
    assert started.json()["id"] == campaign_id(batch_id) and started.json()["startedBy"] in (None, MANAGER.id)

    done = await _status_until(api_engine, batch_id, "done")
    assert (done["numbers"], done["harmed"], done["opened"], done["alreadyOpen"]) == (20, HARMED_OF_20,
                                                                                      HARMED_OF_20, 0)
    assert done["startedBy"] == MANAGER.id and sum(done["casesByStatus"].values()) == HARMED_OF_20
    paused = await http.post(f"{CAMPAIGN}/{batch_id}/pause", json={}, headers=bearer(SUPERVISOR))
    assert paused.status_code in (404, 409), paused.text  # a finished campaign takes no pause

    again = await http.post(CAMPAIGN, json=body, headers=bearer(SUPERVISOR))
    assert again.status_code == 202, again.text
    rerun = await _status_until(api_engine, batch_id, "done")
    assert rerun["opened"] == 0 and sum((await case_counts(pool, batch_id)).values()) == HARMED_OF_20


async def test_a_supervisor_pauses_and_resumes_a_running_campaign(api_engine: ApiEngine) -> None:
    http = api_engine.http
    batch_id = await small_batch(api_engine.context.pool)
    # One case a minute, one number a page: it runs long enough to be paused.
    started = await http.post(CAMPAIGN, json={"batchId": batch_id, "casesPerMinute": 1, "pageSize": 1},
                              headers=bearer(SUPERVISOR))
    assert started.status_code == 202, started.text
    try:
        paused = await http.post(f"{CAMPAIGN}/{batch_id}/pause", json={"reason": "billing asked us to wait"},
                                 headers=bearer(SUPERVISOR))
        assert paused.status_code == 200, paused.text
        assert (paused.json()["state"], paused.json()["pausedBy"], paused.json()["pauseReason"]) == (
            "paused", SUPERVISOR.id, "billing asked us to wait")
        twice = await http.post(f"{CAMPAIGN}/{batch_id}/pause", json={}, headers=bearer(SUPERVISOR))
        assert twice.status_code == 409 and "already paused" in twice.json()["message"], twice.text
        status = await http.get(f"{CAMPAIGN}/{batch_id}", headers=bearer(SUPERVISOR))
        assert status.json()["state"] == "paused"

        resumed = await http.post(f"{CAMPAIGN}/{batch_id}/resume", json={}, headers=bearer(MANAGER))
        assert resumed.status_code == 200 and resumed.json()["state"] == "running", resumed.text
        again = await http.post(f"{CAMPAIGN}/{batch_id}/resume", json={}, headers=bearer(SUPERVISOR))
        assert again.status_code == 409 and "not paused" in again.json()["message"], again.text
    finally:
        await api_engine.client.temporal.get_workflow_handle(campaign_id(batch_id)).terminate("test over")


async def test_a_start_no_worker_has_taken_up_yet_answers_running(api_engine: ApiEngine) -> None:
    # The same engine, but cases and campaigns go to a task queue no worker serves.
    idle = ComplaintClient(api_engine.client.temporal, options=ClientOptions(task_queue=f"idle-{uuid.uuid4().hex}"),
                           token_key=TOKEN_KEY)
    app = create_app(dataclasses.replace(api_engine.context, complaints=idle))
    batch_id = await small_batch(api_engine.context.pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
        started = await http.post(CAMPAIGN, json={"batchId": batch_id}, headers=bearer(SUPERVISOR))
        # Reading it later, while still no worker answers, says so (503), not a failure of the API.
        unanswered = await http.get(f"{CAMPAIGN}/{batch_id}", headers=bearer(SUPERVISOR))
    try:
        assert started.status_code == 202, started.text
        assert (started.json()["state"], started.json()["opened"], started.json()["startedBy"]) == ("running", 0, None)
        assert unanswered.status_code == 503 and "no worker answered" in unanswered.json()["message"], unanswered.text
    finally:
        await api_engine.client.temporal.get_workflow_handle(campaign_id(batch_id)).terminate("test over")
