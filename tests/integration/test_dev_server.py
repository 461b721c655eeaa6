"""On the real Temporal dev server and PostgreSQL: the slice end to end, and supervisors' lists."""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from client.queries import CaseFilter
from domain.actors import Actor, Role
from domain.cases import Category, Priority
from domain.policy import Policy
from domain.sla import policy_for
from store.event_store import PostgresEventStore
from tests.conftest import TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, set_partner_faults, wait_for_question
from tests.identity import prepare_logins, signed
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def test_forwarding_case_end_to_end_with_events_read_back_from_postgres(
    dev_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(dev_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)

    assert outcome.close_reason == "confirmed" and outcome.outcome == "forwarding_cancelled"
    store = PostgresEventStore(deps.pool)
    assert await store.load(intake.complaint_id) == view.timeline
    assert await store.verify(intake.complaint_id) is None
    async with deps.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT status, msisdn_masked, last_seq FROM complaints WHERE complaint_id = $1",
                                  intake.complaint_id)
    assert row["status"] == "closed" and row["last_seq"] == len(view.timeline)
    assert row["msisdn_masked"] == "139****0001"


async def test_list_finds_the_stalled_cases(
    dev_env: WorkflowEnvironment, deps: Dependencies, partner_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three cases with a 3-second deadline stall behind a dead partner; two with 30 minutes do not."""
    await set_partner_faults(partner_url, error_rate=1.0)
    tight = policy_for(Category.FORWARDING_CANCEL, "normal").model_copy(
        update={"resolve_within": timedelta(seconds=3), "re_escalate_after": timedelta(minutes=10)}
    )
    tight_policy = Policy(version="tight", sla_overrides={Category.FORWARDING_CANCEL: {Priority.NORMAL: tight}})
    async with engine(dev_env, deps, policy=tight_policy) as tight_client:
        stalled = [forwarding_intake() for _ in range(3)]
        for intake in stalled:
            await tight_client.file(intake)
        async with engine(dev_env, deps) as relaxed_client:
            fine = [forwarding_intake() for _ in range(2)]
            for intake in fine:
                await relaxed_client.file(intake)

            ours = {i.complaint_id for i in stalled + fine}
            stalled_ids = {i.complaint_id for i in stalled}
            for _ in range(100):
                rows = await relaxed_client.list_cases(CaseFilter(stalled=True))
                found = {row.complaint_id for row in rows} & ours
                if found == stalled_ids and all(r.escalation_level == 1 for r in rows if r.complaint_id in ours):
                    break
                await asyncio.sleep(0.2)
            assert found == stalled_ids

            monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
            monkeypatch.setenv("MSISDN_TOKEN_KEY", TOKEN_KEY)
            logged_in = Path(tempfile.mkdtemp(prefix="complaints-cli-"))  # `list` needs a login
            prepare_logins(logged_in)
            monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(logged_in))
            capsys.readouterr()  # only what the command prints from here on
            assert await asyncio.to_thread(starter.main, ["list", "--stalled", "--json"]) == 0
            listed = {row["complaint_id"]: row for row in json.loads(capsys.readouterr().out)}
            assert set(listed) & ours == stalled_ids
            assert all(listed[cid]["escalation_level"] == 1 for cid in stalled_ids)

            assert await asyncio.to_thread(starter.main, ["list", "--at-risk", "--within", "31"]) == 0
            table = capsys.readouterr().out
            assert all(intake.complaint_id in table for intake in fine)
            assert not any(intake.complaint_id in table for intake in stalled)

            for intake in stalled + fine:
                await dev_env.client.get_workflow_handle(intake.complaint_id).terminate("test over")
