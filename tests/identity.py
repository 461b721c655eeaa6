"""The test issuer: a signing key made for this test session, trusted by every worker the tests start.

`signed(actor)` is the token a test's person acts with. Tokens live ten years by default, because the
time-skipping server moves a workflow's clock by days while a test waits (expiry is checked at
`workflow.now()`); the expiry tests mint short ones themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from auth.tokens import SigningKey, TrustedKeys, issue_token
from domain.actors import Actor

TEST_ISSUER = "complaints-tests"
TEST_AUDIENCE = "complaints"
TEST_SIGNING_KEY = SigningKey.generate("test-key-1")
TEST_KEYS = TrustedKeys.from_jwks(
    {"keys": [TEST_SIGNING_KEY.public_jwk()]}, issuer=TEST_ISSUER, audience=TEST_AUDIENCE
)
LONG_LIVED = timedelta(days=3650)


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
