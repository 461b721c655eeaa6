"""Bearer tokens on every call: a JWT the engine's issuer signed (auth.tokens), checked before any route runs.

- No token, or one that does not verify (bad signature, untrusted key, wrong issuer or audience, expired):
  401 with `WWW-Authenticate: Bearer`, as a TMF error body.
- A verified token without a role the route needs: 403.

Routes take a `Caller` through `Security(require(...))`; the caller's token is then forwarded into every
update the route sends, exactly as the CLI does, so the workflow's validator checks the same signature.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import ApiContext, context_of
from api.errors import ApiError
from auth.tokens import TokenRefused, VerifiedActor, verify_token
from domain.actors import Role

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="A token from the engine's issuer (`starter login`) or the deployment's OIDC provider.",
)

# Who may call which routes at all; the case's own rules (the workflow's validators) decide the rest.
STAFF = (Role.AGENT, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT, Role.SUPERVISOR)
READERS = (*STAFF, Role.AUDITOR, Role.CUSTOMER)
FILERS = (*STAFF, Role.CUSTOMER)


@dataclass(frozen=True)
class Caller:
    """Who calls: the verified claims of their token, and the token itself (forwarded into updates)."""

    actor: VerifiedActor
    token: str

    @property
    def is_customer(self) -> bool:
        """Whether the caller is a customer, who sees only their own cases."""
        return self.actor.role is Role.CUSTOMER


def _unauthenticated(message: str, error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="complaints"' + (f', error="{error}"' if error else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    context: Annotated[ApiContext, Depends(context_of)],
) -> Caller:
    """The caller of a verified bearer token; 401 otherwise."""
    if credentials is None or not credentials.credentials.strip():
        raise _unauthenticated("a bearer token is required (Authorization: Bearer <token>; `starter login`)")
    token = credentials.credentials.strip()
    try:
        actor = verify_token(token, context.trusted_keys(), context.clock())
    except TokenRefused as refused:
        raise _unauthenticated(str(refused), "invalid_token") from None
    return Caller(actor=actor, token=token)


def require(*roles: Role) -> Callable[..., Coroutine[Any, Any, Caller]]:
    """A dependency: the verified caller, holding one of `roles` (403 otherwise)."""

    async def dependency(caller: Annotated[Caller, Depends(authenticated)]) -> Caller:
        if not caller.actor.has_role(*roles):
            held = ", ".join(role.value for role in caller.actor.roles)
            wanted = ", ".join(role.value for role in roles)
            raise ApiError(403, f"{caller.actor.subject} ({held}) may not do this: it needs one of {wanted}")
        return caller

    return dependency
