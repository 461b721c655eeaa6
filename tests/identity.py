"""The test issuer: a signing key made for this test session, trusted by every worker the tests start.

`signed(actor)` is the token a test's person acts with. Tokens live a hundred years by default, because the
time-skipping server moves a workflow's clock while a test awaits a result, by days and at times by ten years
(expiry is checked at `workflow.now()`, for updates and for filing alike); the expiry tests mint short ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auth.embedded import AUDIENCE, EMBEDDED_ISSUER, EmbeddedIssuer
from auth.tokens import SigningKey, TrustedKeys, issue_token
from client.api import ComplaintClient, Credential, FilingReceipt
from domain.actors import Actor, Role
from domain.intake import ComplaintIntake

# The embedded issuer's names, so a starter.py subprocess on a data folder prepared by `prepare_logins`
# trusts exactly what the tests' workers trust.
TEST_ISSUER = EMBEDDED_ISSUER
TEST_AUDIENCE = AUDIENCE
TEST_SIGNING_KEY = SigningKey.generate("test-key-1")
TEST_TRUSTED_KEYS = TrustedKeys.from_jwks(
    {"keys": [TEST_SIGNING_KEY.public_jwk()]}, issuer=TEST_ISSUER, audience=TEST_AUDIENCE
)
LONG_LIVED = timedelta(days=36500)


def signed(
    actor: Actor,
    *,
    ttl: timedelta = LONG_LIVED,
    now: datetime | None = None,
    scopes: Iterable[str] = (),
    msisdn: str | None = None,
    key: SigningKey = TEST_SIGNING_KEY,
) -> str:
    """A token proving `actor` (its id and role), signed by the test issuer unless another key is given."""
    return issue_token(
        key, subject=actor.id, roles=[actor.role], issuer=TEST_ISSUER, audience=TEST_AUDIENCE,
        now=now or datetime.now(UTC), ttl=ttl, scopes=scopes, msisdn=msisdn,
    )


CLI_USERS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "agent": (Role.AGENT, ()),
    "agent-li": (Role.AGENT, ()),
    "customer": (Role.CUSTOMER, ()),
    "sup-zhang": (Role.SUPERVISOR, ()),
    "auditor": (Role.AUDITOR, ()),
    "auditor-pii": (Role.AUDITOR, ("pii:read",)),
}


def prepare_logins(data_dir: Path, current: str = "agent") -> None:
    """A data folder whose embedded issuer signs with the test key, with a cached login for each CLI_USERS
    person (`--as ID` picks one; `current` acts by default), as `starter login` would leave it."""
    issuer = EmbeddedIssuer.open(data_dir)
    issuer.keys = [TEST_SIGNING_KEY]
    issuer.save()
    for user, (role, scopes) in CLI_USERS.items():
        cache_login(data_dir, Actor(id=user, role=role), scopes=scopes)
    (data_dir / "auth" / "logins" / "current").write_text(current)


def cache_login(data_dir: Path, actor: Actor, *, scopes: Iterable[str] = (), msisdn: str | None = None) -> None:
    """A cached login of `actor` in the data folder, as `starter login --as` leaves it."""
    logins = data_dir / "auth" / "logins"
    logins.mkdir(parents=True, exist_ok=True, mode=0o700)
    (logins / f"{actor.id}.jwt").write_text(signed(actor, scopes=scopes, msisdn=msisdn))


class FilingAsIntake(ComplaintClient):
    """The tests' back-office client: a case is filed by the person its intake names, logged in with the test
    issuer (the worker verifies the filer's token, so a client without one could file nothing)."""

    async def file(
        self, intake: ComplaintIntake, credential: Credential | None = None, *, wait_for_links: float = 10.0
    ) -> FilingReceipt:
        chosen = credential if credential is not None else signed(intake.filed_by)
        return await super().file(intake, chosen, wait_for_links=wait_for_links)
