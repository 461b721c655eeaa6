"""What the API's routes work with, built once at the edge (the runtime, a test) and kept on `app.state`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from fastapi import Request

from auth.tokens import TrustedKeys
from client.api import ComplaintClient
from store.event_store import PostgresEventStore


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ApiContext:
    """The engine as the API reaches it.

    `complaints` is a ComplaintClient without a credential of its own: every route acts with the caller's
    verified token (`acting_as`), so the workflow checks the same signature the API checked. `trusted_keys`
    is called per request, so a rotated issuer key is trusted at once (auth.sources refreshes them).
    """

    complaints: ComplaintClient
    pool: asyncpg.Pool
    store: PostgresEventStore
    trusted_keys: Callable[[], TrustedKeys]
    clock: Callable[[], datetime] = field(default=_now)


def context_of(request: Request) -> ApiContext:
    """The application's context (a FastAPI dependency)."""
    context: ApiContext = request.app.state.context
    return context
