"""Tokens and the embedded issuer, without a server: what a verifier accepts and why it refuses the rest."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth.embedded import DEV_MODE_WARNING, EmbeddedIssuer, LoginRefused
from auth.tokens import SigningKey, TokenRefused, TrustedKeys, read_verified_claims, verify_token
from domain.actors import Role

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_a_login_proves_the_directory_s_user_and_role(tmp_path: Path) -> None:
    issuer = EmbeddedIssuer.open(tmp_path)
    token, warning = issuer.login(" SUP-Zhang ", NOW)
    assert warning == DEV_MODE_WARNING.format(user="sup-zhang")
    verified = verify_token(token, issuer.trusted_keys(), NOW + timedelta(minutes=59))
    assert (verified.subject, verified.roles) == ("sup-zhang", (Role.SUPERVISOR,))
    assert verified.actor().role is Role.SUPERVISOR
    assert read_verified_claims(token) == verified
    for secret in ("signing-keys.json", "users.json"):
        assert stat.S_IMODE(os.stat(tmp_path / "auth" / secret).st_mode) == 0o600


def test_expired_foreign_and_tampered_tokens_are_refused_with_a_reason(tmp_path: Path) -> None:
    issuer = EmbeddedIssuer.open(tmp_path)
    keys = issuer.trusted_keys()
    token, _ = issuer.login("agent", NOW, ttl=timedelta(minutes=5))
    with pytest.raises(TokenRefused, match=r"expired at .* log in again"):
        verify_token(token, keys, NOW + timedelta(minutes=6))
    foreign = EmbeddedIssuer.open(tmp_path / "elsewhere")
    with pytest.raises(TokenRefused, match="does not trust"):
        verify_token(foreign.login("agent", NOW)[0], keys, NOW)
    header, claims, signature = token.split(".")
    forged_claims = read_claims_swapped_role(claims)
    with pytest.raises(TokenRefused, match="signature does not verify"):
        verify_token(f"{header}.{forged_claims}.{signature}", keys, NOW)
    with pytest.raises(TokenRefused, match="no token"):
        verify_token("", keys, NOW)
    other_audience = TrustedKeys(issuer=keys.issuer, audience="someone-else", jwks=keys.jwks)
    with pytest.raises(TokenRefused, match="not meant for this engine"):
        verify_token(token, other_audience, NOW)


def read_claims_swapped_role(encoded: str) -> str:
    import base64
    import json

    padded = encoded + "=" * (-len(encoded) % 4)
    claims = json.loads(base64.urlsafe_b64decode(padded))
    claims["roles"] = ["supervisor"]
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_retired(tmp_path: Path) -> None:
    issuer = EmbeddedIssuer.open(tmp_path)
    old_token, _ = issuer.login("agent", NOW)
    old_kid = issuer.signing_key.kid
    issuer.rotate()
    new_token, _ = issuer.login("agent", NOW)
    reopened = EmbeddedIssuer.open(tmp_path)  # what a worker's refresher reads
    for token in (old_token, new_token):
        assert verify_token(token, reopened.trusted_keys(), NOW).subject == "agent"
    reopened.retire([old_kid])
    with pytest.raises(TokenRefused, match="does not trust"):
        verify_token(old_token, EmbeddedIssuer.open(tmp_path).trusted_keys(), NOW)
    assert verify_token(new_token, EmbeddedIssuer.open(tmp_path).trusted_keys(), NOW).subject == "agent"


def test_a_password_once_set_is_required(tmp_path: Path) -> None:
    issuer = EmbeddedIssuer.open(tmp_path)
    issuer.set_password("auditor", "correct horse")
    with pytest.raises(LoginRefused, match="wrong password"):
        issuer.login("auditor", NOW, password="wrong")
    token, warning = EmbeddedIssuer.open(tmp_path).login("auditor", NOW, password="correct horse")
    assert warning is None and verify_token(token, issuer.trusted_keys(), NOW).subject == "auditor"
    with pytest.raises(LoginRefused, match="no user 'nobody'"):
        issuer.login("nobody", NOW)


def test_a_token_without_a_known_role_proves_nothing() -> None:
    from auth.tokens import issue_token

    key = SigningKey.generate("k1")
    keys = TrustedKeys.from_jwks({"keys": [key.public_jwk()]}, issuer="i", audience="a")
    token = issue_token(key, subject="x", roles=[], issuer="i", audience="a", now=NOW, ttl=timedelta(minutes=1))
    with pytest.raises(TokenRefused, match="grants no role"):
        verify_token(token, keys, NOW)
