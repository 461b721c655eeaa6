"""The API over a real engine: the suite's Temporal dev server, a worker on its own task queue, the session's
PostgreSQL, and the FastAPI app called in-process through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.context import ApiContext
from client.api import ComplaintClient
from domain.actors import Actor, Role
from store.event_store import PostgresEventStore
from tests.conftest import engine
from tests.identity import TEST_TRUSTED_KEYS, signed
from worker import Dependencies

BASE = "/tmf-api/troubleTicket/v5"
AGENT = Actor(id="agent-api", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-api", role=Role.SUPERVISOR)
AUDITOR = Actor(id="auditor-api", role=Role.AUDITOR)


def bearer(actor: Actor, **claims: object) -> dict[str, str]:
    """The Authorization header of a token proving `actor` (signed by the test issuer)."""
    return {"Authorization": f"Bearer {signed(actor, **claims)}"}  # type: ignore[arg-type]


def customer(msisdn: str) -> dict[str, str]:
    return bearer(Actor(id=f"cust-{msisdn[-4:]}", role=Role.CUSTOMER), msisdn=msisdn)


@dataclass(frozen=True)
class ApiEngine:
    client: ComplaintClient  # the test's own driver, reading without a credential
    http: httpx.AsyncClient
    app: FastAPI
    context: ApiContext


def api_context(client: ComplaintClient, deps: Dependencies) -> ApiContext:
    return ApiContext(
        complaints=client,
        pool=deps.pool,
        store=PostgresEventStore(deps.pool),
        trusted_keys=lambda: TEST_TRUSTED_KEYS,
    )


@pytest_asyncio.fixture(scope="module")
async def api_engine(dev_env: WorkflowEnvironment, deps: Dependencies) -> AsyncIterator[ApiEngine]:
    async with engine(dev_env, deps) as client:
        context = api_context(client, deps)
        app = create_app(context)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield ApiEngine(client=client, http=http, app=app, context=context)
