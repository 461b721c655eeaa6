"""Delivery fixtures: a fresh database per test (the audit tests' fixture) and a real webhook listener on
loopback whose answers each test scripts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest_asyncio
from aiohttp import web

from delivery.schedule import RelayConfig
from runtime.serving import serve_app
from tests.audit.conftest import audit_db, cli

__all__ = ["audit_db", "cli"]

# Retries in milliseconds instead of hours; the lease outlasts the request timeout as the relay requires.
FAST = RelayConfig(
    retry_schedule=(timedelta(milliseconds=20), timedelta(milliseconds=40)),
    lease=timedelta(seconds=3),
    request_timeout=2.0,
    poll_seconds=0.02,
)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    query: str = ""  # the callback URL's query: one server plays several listeners

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def event_id(self) -> str:
        return str(self.json["eventId"])


# What the listener answers: a status, or "hang" to keep the relay waiting until the test lets go.
Answer = int | str


@dataclass
class WebhookListener:
    """An aiohttp server on 127.0.0.1 that records every request and answers as `answer` says."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answer: Callable[[Received, int], Answer] = lambda request, nth: 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        got = Received({k.lower(): v for k, v in request.headers.items()}, await request.read(), request.query_string)
        self.received.append(got)
        nth = sum(1 for r in self.received if r.headers["webhook-id"] == got.headers["webhook-id"])
        self.arrived.set()
        answer = self.answer(got, nth)
        if answer == "hang":
            await self.released.wait()
            answer = 200
        return web.Response(status=int(answer))

    def first_receipts(self) -> list[str]:
        """Event ids in the order each first arrived."""
        seen: list[str] = []
        for request in self.received:
            if request.event_id not in seen:
                seen.append(request.event_id)
        return seen


@pytest_asyncio.fixture
async def listener() -> AsyncIterator[WebhookListener]:
    hook = WebhookListener()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    url, _, runner = await serve_app(app)
    hook.url = f"{url}/hook"
    yield hook
    hook.released.set()
    await runner.cleanup()
