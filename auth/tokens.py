"""Signed actor assertions (JWT): who acts, in which roles, proven by an issuer's signature.

The one place tokens are made and checked. A token's subject, name, roles and scopes come from its issuer
(the embedded one in the data folder, or any OIDC provider); nothing a caller declares beside it counts.

`verify_token` takes the time to check expiry against as an argument, so a workflow's update validator can
pass `workflow.now()` and a CLI `datetime.now(UTC)`. It does no I/O: the keys it trusts are handed in
(`TrustedKeys`, a JWKS by key id), fetched or loaded at the edge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.actors import Actor, ActorChannel, Role, normalise_actor_id

ALGORITHMS = ("EdDSA", "ES256", "RS256")
"""Signature algorithms accepted: the embedded issuer's Ed25519 and the usual OIDC ones. Never `none` or HS*."""

# Clocks of the issuer and of the worker differ a little.
CLOCK_SKEW = timedelta(seconds=30)
_ROLE_VALUES = frozenset(role.value for role in Role)


class TokenRefused(ValueError):
    """A token that proves nothing: absent, malformed, expired, or signed by a key not trusted. One line."""


@dataclass(frozen=True)
class VerifiedActor:
    """The claims of a token whose signature, issuer, audience and expiry were checked."""

    subject: str
    name: str
    roles: tuple[Role, ...]
    scopes: frozenset[str]
    expires_at: datetime
    issuer: str
    # A customer's own number (OIDC's `phone_number` claim): the only cases a customer token may read.
    msisdn: str | None = None

    @property
    def role(self) -> Role:
        """The role an act is recorded under: the token's first role the engine knows."""
        return self.roles[0]

    def has_role(self, *roles: Role) -> bool:
        """Whether the token grants any of `roles`."""
        return any(role in self.roles for role in roles)

    def has_scope(self, scope: str) -> bool:
        """Whether the token grants `scope`."""
        return scope in self.scopes

    def actor(self, channel: ActorChannel = ActorChannel.API) -> Actor:
        """The actor recorded in events: the token's subject and role, the channel the act came through."""
        return Actor(id=self.subject, role=self.role, channel=channel)


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys a verifier trusts, by key id (`kid`), with the issuer and audience they sign for.

    Several keys at once make rotation possible: a new key signs new tokens while the previous one still
    verifies the tokens it signed until they expire; then it is dropped from the set.
    """

    issuer: str
    audience: str
    jwks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    roles_claim: str = "roles"

    @classmethod
    def from_jwks(
        cls, jwks: Mapping[str, Any], *, issuer: str, audience: str, roles_claim: str = "roles"
    ) -> TrustedKeys:
        """From a JWKS document (`{"keys": [...]}`), as an OIDC provider publishes it.

        Keys without kid are refused: with several keys, a token must say which one signed it.
        """
        keys: dict[str, Mapping[str, Any]] = {}
        for key in jwks.get("keys", []):
            if key.get("use", "sig") != "sig":
                continue
            kid = key.get("kid")
            if not kid:
                raise ValueError("a trusted key has no kid")
            jwt.PyJWK(dict(key))  # refuses a key it cannot use, here rather than at the first token
            keys[str(kid)] = dict(key)
        return cls(issuer=issuer, audience=audience, jwks=keys, roles_claim=roles_claim)

    def to_jwks(self) -> dict[str, Any]:
        """The trusted keys as a JWKS document."""
        return {"keys": [dict(key) for key in self.jwks.values()]}

    @property
    def kids(self) -> tuple[str, ...]:
        """The ids of the trusted keys."""
        return tuple(self.jwks)


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key with its key id: what an embedded issuer signs tokens with."""

    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, kid: str) -> SigningKey:
        """A new Ed25519 signing key with this id."""
        return cls(kid=kid, private_key=Ed25519PrivateKey.generate())

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, for a JWKS others verify with."""
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}


def issue_token(
    key: SigningKey,
    *,
    subject: str,
    roles: Iterable[Role | str],
    issuer: str,
    audience: str,
    now: datetime,
    ttl: timedelta,
    name: str | None = None,
    scopes: Iterable[str] = (),
    msisdn: str | None = None,
) -> str:
    """A signed token for `subject`, valid from `now` for `ttl`."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "name": name or subject,
        "roles": [Role(role).value for role in roles],
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    scope_list = sorted(set(scopes))
    if scope_list:
        claims["scope"] = " ".join(scope_list)
    if msisdn is not None:
        claims["phone_number"] = msisdn
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


def verify_token(token: str, keys: TrustedKeys, now: datetime) -> VerifiedActor:
    """Check the token's signature (by a key in `keys`, chosen by kid), issuer, audience and expiry at `now`.

    Raises TokenRefused with one line saying why. No I/O and no clock: deterministic given its arguments.
    """
    if not token or not isinstance(token, str):
        raise TokenRefused("no token: log in first (starter login --as ID)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRefused("the token is not a signed JWT") from None
    kid = header.get("kid")
    jwk = keys.jwks.get(kid) if isinstance(kid, str) else None
    if jwk is None:
        raise TokenRefused(f"the token is signed by a key this engine does not trust (kid {kid!r})")
    try:
        signing = jwt.PyJWK(dict(jwk))
        claims = jwt.decode(
            token,
            signing.key,
            algorithms=[a for a in ALGORITHMS if a == header.get("alg")] or ["EdDSA"],
            audience=keys.audience,
            issuer=keys.issuer,
            # Expiry is checked below against the caller's `now` (a workflow's clock), never the machine's.
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["exp", "sub"]},
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused("the token's signature does not verify: it was not signed by a trusted key") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(f"the token is not meant for this engine (audience is not {keys.audience!r})") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused(f"the token was not issued by {keys.issuer!r}") from None
    except jwt.PyJWTError as error:
        raise TokenRefused(f"the token is not valid: {error}") from None
    verified = _actor_from_claims(claims, keys.roles_claim)
    if now >= verified.expires_at + CLOCK_SKEW:
        raise TokenRefused(
            f"the token of {verified.subject} expired at {verified.expires_at:%Y-%m-%d %H:%M:%S} UTC: log in again"
        )
    return verified


def read_verified_claims(token: str, roles_claim: str = "roles") -> VerifiedActor:
    """The claims of a token that was ALREADY verified (by an update's validator), without checking again.

    For update handlers: Temporal runs validators only when an update is first accepted, never on replay,
    and the keys may have rotated since. The handler reads the same claims from the same token in history,
    so what it records is deterministic and needs no key.
    """
    claims = jwt.decode(token, options={"verify_signature": False})
    return _actor_from_claims(claims, roles_claim)


def _actor_from_claims(claims: Mapping[str, Any], roles_claim: str) -> VerifiedActor:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise TokenRefused("the token names no subject")
    raw_roles = claims.get(roles_claim) or []
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    known = tuple(Role(r) for r in raw_roles if isinstance(r, str) and r in _ROLE_VALUES)
    if not known:
        raise TokenRefused(f"the token of {subject} grants no role this engine knows ({roles_claim!r} claim)")
    raw_scope = claims.get("scope") or claims.get("scp") or ""
    scopes = frozenset(raw_scope.split() if isinstance(raw_scope, str) else raw_scope)
    phone = claims.get("phone_number")
    return VerifiedActor(
        subject=normalise_actor_id(subject),
        name=str(claims.get("name") or subject),
        roles=known,
        scopes=scopes,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        issuer=str(claims.get("iss", "")),
        msisdn=phone if isinstance(phone, str) else None,
    )
