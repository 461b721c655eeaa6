"""The codec server: /decode and /encode for the Web UI and the CLI, behind a bearer token and CORS."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from auth.tokens import SigningKey, TrustedKeys, issue_token
from codec.aes_gcm import KeyRing, encrypt_payload
from codec.server import RunningCodecServer, codec_app, start_codec_server

UI = "http://127.0.0.1:8233"
ISSUER, AUDIENCE = "test-issuer", "complaints"
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
TRUSTED = SigningKey.generate("trusted-1")
STRANGER = SigningKey.generate("trusted-1")  # the same kid, another key: a forger's guess
KEYS = KeyRing.generate("k1")
PERSONAL = '{"customer_name": "赵先生", "id_number": "330106198001011235", "msisdn": "13905710001"}'


def _token(roles: list[str], *, key: SigningKey = TRUSTED, scopes: tuple[str, ...] = (), now: datetime = NOW) -> str:
    return issue_token(key, subject="someone", roles=roles, issuer=ISSUER, audience=AUDIENCE, now=now,
                       ttl=timedelta(minutes=15), scopes=scopes)


def _encrypted_body() -> dict[str, Any]:
    sealed = encrypt_payload(KEYS, Payload(metadata={"encoding": b"json/plain"}, data=PERSONAL.encode()))
    return json_format.MessageToDict(Payloads(payloads=[sealed]))


@pytest_asyncio.fixture
async def server() -> AsyncIterator[RunningCodecServer]:
    trusted = TrustedKeys.from_jwks({"keys": [TRUSTED.public_jwk()]}, issuer=ISSUER, audience=AUDIENCE)
    app = codec_app(KEYS, trusted_keys=lambda: trusted, namespaces={"default"}, cors_origins={UI}, clock=lambda: NOW)
    running = await start_codec_server(app)
    yield running
    await running.stop()


async def _post(
    server: RunningCodecServer, path: str, body: dict[str, Any], token: str | None, **headers: str
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}{path}", json=body, headers=headers) as response:
            return response.status, await response.json(), response.headers


async def test_a_supervisor_gets_the_payloads_decoded(server: RunningCodecServer) -> None:
    assert "赵先生".encode() not in base64.b64decode(_encrypted_body()["payloads"][0]["data"])
    status, body, headers = await _post(server, "/decode", _encrypted_body(), _token(["supervisor"]),
                                        Origin=UI, **{"X-Namespace": "default"})
    assert status == 200, body
    [payload] = body["payloads"]
    assert base64.b64decode(payload["data"]).decode() == PERSONAL
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert headers["Access-Control-Allow-Origin"] == UI


async def test_an_auditor_or_the_decode_scope_may_decode_too(server: RunningCodecServer) -> None:
    for token in (_token(["auditor"]), _token(["agent"], scopes=("payloads:decode",))):
        status, body, _ = await _post(server, "/decode", _encrypted_body(), token)
        assert status == 200, body


async def test_without_a_token_it_is_401(server: RunningCodecServer) -> None:
    status, body, headers = await _post(server, "/decode", _encrypted_body(), None, Origin=UI)
    assert status == 401
    assert "bearer token is required" in body["error"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert headers["Access-Control-Allow-Origin"] == UI  # the UI can read why
    assert "payloads" not in body


async def test_a_token_of_another_key_or_an_expired_one_is_401(server: RunningCodecServer) -> None:
    forged = _token(["supervisor"], key=STRANGER)
    expired = _token(["supervisor"], now=NOW - timedelta(hours=2))
    for token, why in ((forged, "signature does not verify"), (expired, "expired"), ("not-a-jwt", "not a signed")):
        status, body, _ = await _post(server, "/decode", _encrypted_body(), token)
        assert status == 401, body
        assert why in body["error"]


async def test_a_customer_or_an_agent_is_403(server: RunningCodecServer) -> None:
    for roles in (["customer"], ["agent"]):
        status, body, _ = await _post(server, "/decode", _encrypted_body(), _token(roles))
        assert status == 403, body
        assert "supervisors and auditors only" in body["error"]
        assert "payloads" not in body


async def test_a_namespace_it_does_not_serve_is_403(server: RunningCodecServer) -> None:
    status, body, _ = await _post(server, "/decode", _encrypted_body(), _token(["supervisor"]),
                                  **{"X-Namespace": "other-namespace"})
    assert status == 403
    assert "does not serve namespace 'other-namespace'" in body["error"]


async def test_encode_then_decode_round_trips(server: RunningCodecServer) -> None:
    plain = json_format.MessageToDict(
        Payloads(payloads=[Payload(metadata={"encoding": b"json/plain"}, data=PERSONAL.encode())])
    )
    status, encoded, _ = await _post(server, "/encode", plain, _token(["supervisor"]))
    assert status == 200
    [sealed] = encoded["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert "赵先生".encode() not in base64.b64decode(sealed["data"])
    status, decoded, _ = await _post(server, "/decode", encoded, _token(["auditor"]))
    assert decoded == plain


async def test_a_malformed_body_is_400(server: RunningCodecServer) -> None:
    status, body, _ = await _post(server, "/decode", {"payloads": "nope"}, _token(["supervisor"]))
    assert status == 400
    assert "must be JSON" in body["error"]


async def test_the_ui_origin_gets_a_cors_preflight_and_others_do_not(server: RunningCodecServer) -> None:
    request_headers = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-namespace",
    }
    async with aiohttp.ClientSession() as session:
        async with session.options(f"{server.url}/decode", headers=request_headers) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == UI
            assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-Namespace"
            assert "POST" in response.headers["Access-Control-Allow-Methods"]
        evil = {**request_headers, "Origin": "http://evil.example"}
        async with session.options(f"{server.url}/decode", headers=evil) as response:
            assert response.status == 403
            assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_browser_session_signs_in_with_a_token_and_decodes_with_its_cookie(server: RunningCodecServer) -> None:
    # unsafe=True: keep cookies of an IP address (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.post(f"{server.url}/login", data={"token": _token(["customer"])}) as response:
            assert response.status == 403
            assert "complaints_codec_token" not in response.cookies
        async with session.post(f"{server.url}/decode", json=_encrypted_body()) as response:
            assert response.status == 401  # no session yet
        async with session.post(f"{server.url}/login", data={"token": _token(["supervisor"])}) as response:
            assert response.status == 200
            cookie = response.cookies["complaints_codec_token"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with session.post(f"{server.url}/decode", json=_encrypted_body(), headers={"Origin": UI}) as response:
            assert response.status == 200
            [payload] = (await response.json())["payloads"]
            assert base64.b64decode(payload["data"]).decode() == PERSONAL
            assert response.headers["Access-Control-Allow-Credentials"] == "true"
        async with session.post(f"{server.url}/logout") as response:
            assert response.status == 200
        async with session.post(f"{server.url}/decode", json=_encrypted_body()) as response:
            assert response.status == 401
