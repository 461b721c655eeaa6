"""Where the trusted keys come from: an OIDC provider's JWKS over HTTP, or the embedded issuer's key file."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web

from auth.embedded import EmbeddedIssuer
from auth.sources import load_trusted_keys
from auth.tokens import SigningKey, TokenRefused, issue_token, verify_token
from domain.actors import Role
from runtime.embedded import free_port
from runtime.settings import ConfigError, Settings

PROVIDER_KEY = SigningKey.generate("provider-2026-12")


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[str]:
    """A stand-in OIDC provider publishing its JWKS (the engine only ever reads this one document)."""

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response({"keys": [PROVIDER_KEY.public_jwk()]})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_an_oidc_provider_s_tokens_are_trusted_through_its_jwks(provider: str, tmp_path: Path) -> None:
    settings = Settings.from_env({
        "COMPLAINTS_DATA_DIR": str(tmp_path), "OIDC_ISSUER": "https://sso.carrier.example",
        "OIDC_AUDIENCE": "complaints-engine", "OIDC_JWKS_URL": f"{provider}/.well-known/jwks.json",
        "OIDC_ROLES_CLAIM": "groups",
    })
    keys = await load_trusted_keys(settings)
    now = datetime.now(UTC)
    # This provider lists a user's roles under `groups` (OIDC_ROLES_CLAIM), as many do.
    claims = {"iss": "https://sso.carrier.example", "aud": "complaints-engine", "sub": "Sup-Zhang",
              "groups": ["supervisor", "some-other-group"], "exp": int((now + timedelta(minutes=5)).timestamp())}
    token = jwt.encode(claims, PROVIDER_KEY.private_key, algorithm="EdDSA", headers={"kid": PROVIDER_KEY.kid})
    verified = verify_token(token, keys, now)
    assert (verified.subject, verified.roles) == ("sup-zhang", (Role.SUPERVISOR,))
    elsewhere = issue_token(PROVIDER_KEY, subject="x", roles=[Role.AGENT], issuer="https://elsewhere",
                            audience="complaints-engine", now=now, ttl=timedelta(minutes=5))
    with pytest.raises(TokenRefused, match=r"not issued by 'https://sso\.carrier\.example'"):
        verify_token(elsewhere, keys, now)
    assert not (tmp_path / "auth").exists()  # no embedded issuer is made when OIDC is configured


async def test_an_unreachable_jwks_stops_the_start_with_one_line(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "COMPLAINTS_DATA_DIR": str(tmp_path), "OIDC_ISSUER": "https://sso.carrier.example",
        "OIDC_AUDIENCE": "complaints-engine", "OIDC_JWKS_URL": "http://127.0.0.1:1/jwks.json",
    })
    with pytest.raises(ConfigError, match=r"OIDC_JWKS_URL=.*cannot read the provider's signing keys"):
        await load_trusted_keys(settings)


async def test_the_embedded_issuer_is_the_default(tmp_path: Path) -> None:
    keys = await load_trusted_keys(Settings.from_env({"COMPLAINTS_DATA_DIR": str(tmp_path)}))
    assert keys.kids == (EmbeddedIssuer.open(tmp_path).signing_key.kid,)


async def test_the_codec_server_trusts_the_oidc_provider_s_keys(provider: str, tmp_path: Path) -> None:
    """`python -m codec serve` (docker-compose's codec server) verifies tokens against the provider's JWKS."""
    port = free_port()
    env = {**os.environ, "COMPLAINTS_DATA_DIR": str(tmp_path), "CODEC_PORT": str(port),
           "OIDC_ISSUER": "https://sso.carrier.example", "OIDC_AUDIENCE": "complaints-engine",
           "OIDC_JWKS_URL": f"{provider}/.well-known/jwks.json"}
    server = await asyncio.create_subprocess_exec(sys.executable, "-m", "codec", "serve", env=env,
                                                  stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    now = datetime.now(UTC)
    claims = {"iss": "https://sso.carrier.example", "aud": "complaints-engine", "sub": "sup-zhang",
              "roles": ["supervisor"], "exp": int((now + timedelta(minutes=5)).timestamp())}
    provider_token = jwt.encode(claims, PROVIDER_KEY.private_key, algorithm="EdDSA",
                                headers={"kid": PROVIDER_KEY.kid})
    other = SigningKey.generate(PROVIDER_KEY.kid)  # the provider's kid, another key: a forger's guess
    forged = jwt.encode(claims, other.private_key, algorithm="EdDSA", headers={"kid": other.kid})

    async def decode_status(token: str) -> int:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/decode", json={"payloads": []},
                                    headers={"Authorization": f"Bearer {token}"}) as response:
                return response.status

    try:
        for _ in range(300):
            if await _port_answers(port):
                break
            assert server.returncode is None, (await server.stderr.read()).decode()  # type: ignore[union-attr]
            await asyncio.sleep(0.1)
        assert await decode_status(provider_token) == 200
        assert await decode_status(forged) == 401
    finally:
        server.terminate()
        await server.wait()
    assert not (tmp_path / "auth").exists()  # it made no embedded issuer of its own


async def _port_answers(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True
