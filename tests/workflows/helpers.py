"""Small helpers shared by workflow tests."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import asyncpg

from client.api import ComplaintClient
from domain.cases import Status
from domain.intake import ComplaintIntake, parse_intake
from tests.domain.factories import intake_data
from workflows.messages import CaseView


def forwarding_intake(**overrides: Any) -> ComplaintIntake:
    return parse_intake(intake_data(complaint_id=f"FWD-{uuid.uuid4().hex[:10]}", **overrides))


async def reset_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    from sandboxes.boss_seed import rearm_stories

    async with aiohttp.ClientSession() as session, session.post(f"{partner_url}/admin/reset") as response:
        response.raise_for_status()
    async with pool.acquire() as conn:
        await rearm_stories(conn)


async def set_partner_faults(partner_url: str, **faults: Any) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{partner_url}/admin/faults", json=faults) as response:
            response.raise_for_status()


async def wait_for_question(client: ComplaintClient, complaint_id: str, attempts: int = 400) -> CaseView:
    """Poll (in real time) until the case asks the customer something."""
    for _ in range(attempts):
        view = await client.view(complaint_id)
        if view.state.pending_question is not None:
            return view
        assert view.state.status is not Status.CLOSED, f"{complaint_id} closed without asking"
        await asyncio.sleep(0.05)
    raise AssertionError(f"{complaint_id} never asked the customer")


def minutes_after(view: CaseView, event_type: str, start: Any) -> list[float]:
    return [round((e.at - start).total_seconds() / 60, 2) for e in view.timeline if e.type == event_type]
