"""What the console needs from the service that serves it, and who is looking (the session)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import asyncpg
from fastapi import Request

from auth.embedded import EmbeddedIssuer
from auth.tokens import TokenRefused, TrustedKeys, VerifiedActor, verify_token
from client.api import ComplaintClient
from codec.aes_gcm import KeyRing
from domain.actors import APPROVER_ROLES, RELAY_ROLES, ActorChannel, Role
from domain.clock import format_local
from store.event_store import PostgresEventStore

if TYPE_CHECKING:
    from api.context import ApiContext

SESSION_COOKIE = "console_session"
# Who may use the console at all: staff and auditors. A customer has the web and the hotline.
CONSOLE_ROLES = frozenset(RELAY_ROLES | APPROVER_ROLES | {Role.AUDITOR})


@dataclass(frozen=True)
class ConsoleContext:
    """The console's dependencies, given by the API service (api.app.create_app) or a test.

    `client` holds no credential: each request acts with the session's token (`ComplaintClient.acting_as`),
    so the workflow checks every act against the person logged in, exactly as for the CLI. `issuer` is the
    embedded user directory, None when identities come from an OIDC provider (the login form then takes a
    token). `payload_keys` decrypt archived runs for the chain check.
    """

    client: ComplaintClient
    pool: asyncpg.Pool
    trusted_keys: Callable[[], TrustedKeys]
    issuer: EmbeddedIssuer | None = None
    payload_keys: KeyRing | None = None
    # The event store the as-of view reads (the API's, which opens personal data); None: one over `pool`.
    store: PostgresEventStore | None = None
    at_risk_window: timedelta = timedelta(hours=4)
    login_ttl: timedelta = timedelta(hours=8)
    refresh_seconds: int = 15

    @classmethod
    def from_api(cls, api: ApiContext) -> ConsoleContext:
        """The console over the API service's engine: the same client, pool and trusted keys."""
        return cls(client=api.complaints, pool=api.pool, trusted_keys=api.trusted_keys, issuer=api.issuer,
                   payload_keys=api.payload_keys, store=api.store)


@dataclass(frozen=True)
class Session:
    """A verified login: the token the acts carry, and its claims."""

    token: str
    actor: VerifiedActor

    @property
    def may_approve(self) -> bool:
        """Whether the signed-in user may approve adjustments."""
        return self.actor.has_role(*APPROVER_ROLES)

    @property
    def login_until(self) -> str:
        """When the login expires, in Shanghai time (what `starter whoami` says)."""
        return format_local(self.actor.expires_at)

    @property
    def may_act(self) -> bool:
        """Note, reassign, resolve, reopen, withdraw: staff who work cases (an auditor only reads)."""
        return self.actor.has_role(*RELAY_ROLES)


class LoginNeeded(Exception):
    """No valid session cookie: the page answers with the login form."""


def session_of(request: Request, context: ConsoleContext) -> Session:
    """The request's verified session; LoginNeeded when the cookie is missing, expired or not trusted."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginNeeded("not logged in")
    try:
        actor = verify_token(token, context.trusted_keys(), datetime.now(UTC))
    except (TokenRefused, ValueError) as refusal:
        raise LoginNeeded(f"the login is no longer valid ({refusal})") from None
    if not actor.has_role(*CONSOLE_ROLES):
        raise LoginNeeded(f"{actor.subject} is {actor.role.value}: the console is for staff and auditors")
    return Session(token=token, actor=actor)


def acting_client(context: ConsoleContext, session: Session) -> ComplaintClient:
    """The client acting as the logged-in person, through the web channel."""
    return context.client.acting_as(session.token, ActorChannel.WEB)


async def form_fields(request: Request) -> dict[str, str]:
    """A url-encoded form's fields, first value each (the console's forms post nothing else)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0].strip() for name, values in parse_qs(body, keep_blank_values=True).items()}


def same_origin(request: Request) -> bool:
    """A state-changing post must come from a console page.

    The cookie is SameSite=Strict, and a browser's Origin header, when sent, must name this host (no cross-site form
    posts with the supervisor's login).
    """
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return origin.rstrip("/") == f"{request.url.scheme}://{request.url.netloc}"
