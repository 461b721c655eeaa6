"""The codec server: Temporal's remote codec protocol over HTTP, for the Web UI and `temporal --codec-endpoint`.

`POST /decode` and `POST /encode` take and answer `{"payloads": [...]}` (payloads in protobuf JSON). The
Web UI calls them from the browser, so the server answers CORS preflights for the UI's origins only, with
`Authorization, Content-Type, X-Namespace` allowed.

Decoding shows personal data in clear, so every call needs a bearer token (a JWT the engine's issuer signed,
checked by `auth.tokens.verify_token`) whose roles include supervisor or auditor, or whose scopes include
`payloads:decode`. A missing or unverifiable token is 401; a valid token without that right is 403; a
namespace the server does not serve (`X-Namespace`) is 403. Each call is logged with who made it, never
with what it decoded.

The stock Web UI cannot send a bearer token of its own unless it is itself behind OIDC, so a person may also
sign in to the codec server in the browser: `GET /login` is a form that takes the token `starter login`
printed and keeps it in an HttpOnly, SameSite=Strict cookie of the codec server's origin (until the token
expires); the UI then sends it along when its codec settings have "Include cross-origin credentials" on.
The cookie is checked exactly like the header. `POST /logout` forgets it.

An aiohttp application (`codec_app`), so it can be mounted into the HTTP API service as well as run on its
own (`start_codec_server`, as the embedded runtime does).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from auth.tokens import TokenRefused, TrustedKeys, VerifiedActor, verify_token
from codec.aes_gcm import KeyRing, PayloadDecryptionError, decrypt_payload, encrypt_payload
from domain.actors import Role
from runtime.serving import serve_app

log = structlog.get_logger("codec-server")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DECODE_ROLES = (Role.SUPERVISOR, Role.AUDITOR)
DECODE_SCOPE = "payloads:decode"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
SESSION_COOKIE = "complaints_codec_token"
# Temporal's own payload limit is 2 MB per payload; a UI page asks for a few at once.
MAX_BODY_BYTES = 8 * 1024 * 1024


def may_decode(actor: VerifiedActor) -> bool:
    """Only those who must read a case's personal data in Temporal: supervisors, auditors, or an explicit scope."""
    return actor.has_role(*DECODE_ROLES) or actor.has_scope(DECODE_SCOPE)


@dataclass(frozen=True)
class CodecServerConfig:
    keys: KeyRing
    trusted_keys: Callable[[], TrustedKeys]  # called per request, so a rotated issuer key is trusted at once
    namespaces: frozenset[str]
    cors_origins: frozenset[str]
    clock: Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def codec_app(
    keys: KeyRing,
    *,
    trusted_keys: Callable[[], TrustedKeys],
    namespaces: Collection[str],
    cors_origins: Collection[str],
    clock: Callable[[], datetime] = _now,
) -> web.Application:
    """The codec server's routes: OPTIONS and POST on /encode and /decode, and the browser sign-in (/login)."""
    config = CodecServerConfig(
        keys=keys,
        trusted_keys=trusted_keys,
        namespaces=frozenset(namespaces),
        cors_origins=frozenset(origin.rstrip("/") for origin in cors_origins),
        clock=clock,
    )
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    for path, transform in (("/encode", _encode), ("/decode", _decode)):
        app.router.add_route("OPTIONS", path, _preflight(config))
        app.router.add_post(path, _handler(config, path.lstrip("/"), transform))
    app.router.add_get("/login", _login_form)
    app.router.add_post("/login", _login(config))
    app.router.add_post("/logout", _logout)
    return app


def _cors_headers(config: CodecServerConfig, request: web.Request) -> dict[str, str]:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None or origin.rstrip("/") not in config.cors_origins:
        return {}
    return {
        hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
        hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS: "true",
        hdrs.VARY: "Origin",
    }


def _preflight(config: CodecServerConfig) -> Handler:
    async def preflight(request: web.Request) -> web.Response:
        cors = _cors_headers(config, request)
        if not cors:
            return web.Response(status=403, text="origin not allowed\n")
        return web.Response(
            status=204,
            headers={
                **cors,
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "POST, OPTIONS",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
            },
        )

    return preflight


def _error(status: int, message: str, cors: dict[str, str], **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers={**cors, **headers})


def _bearer(request: web.Request) -> str | None:
    """The token of the Authorization header, or else of the browser session cookie."""
    scheme, _, token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def _handler(
    config: CodecServerConfig, action: str, transform: Callable[[KeyRing, Sequence[Payload]], list[Payload]]
) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        cors = _cors_headers(config, request)
        token = _bearer(request)
        if token is None:
            return _error(401, "a bearer token is required (Authorization: Bearer <token>)", cors,
                          **{hdrs.WWW_AUTHENTICATE: 'Bearer realm="codec"'})
        try:
            actor = verify_token(token, config.trusted_keys(), config.clock())
        except TokenRefused as refused:
            return _error(401, str(refused), cors, **{hdrs.WWW_AUTHENTICATE: 'Bearer error="invalid_token"'})
        namespace = request.headers.get("X-Namespace")
        if namespace is not None and namespace not in config.namespaces:
            log.warning("codec request for a namespace not served", action=action, actor=actor.subject,
                        namespace=namespace)
            return _error(403, f"this codec server does not serve namespace {namespace!r}", cors)
        if not may_decode(actor):
            log.warning("codec request refused", action=action, actor=actor.subject,
                        roles=[role.value for role in actor.roles])
            return _error(
                403,
                f"{actor.subject} may not {action} payloads: supervisors and auditors only "
                f"(or the {DECODE_SCOPE} scope)",
                cors,
            )
        try:
            body = await request.text()
            payloads = json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError, ValueError):
            return _error(400, 'the body must be JSON {"payloads": [...]} with protobuf-JSON payloads', cors)
        try:
            result = transform(config.keys, payloads.payloads)
        except PayloadDecryptionError as error:
            return _error(422, str(error), cors)
        log.info(f"payloads {action}d", actor=actor.subject, namespace=namespace, count=len(result))
        return web.json_response(
            json_format.MessageToDict(Payloads(payloads=result)), headers=cors
        )

    return handle


_LOGIN_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Codec server sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>Complaint engine: codec server</h1>
<p>{message}</p>
<form method="post" action="/login">
<p><label>Token (from <code>./run starter login --as sup-zhang</code>):<br>
<textarea name="token" rows="6" cols="70" required></textarea></label></p>
<p><button type="submit">Sign in</button></p>
</form>
<p>Then, in the Temporal Web UI's codec server settings, turn on "Include cross-origin credentials".
Open the UI under the same host name as this page (127.0.0.1 or localhost), or the browser keeps the
cookie to itself.</p>
</body></html>
"""


async def _login_form(request: web.Request) -> web.Response:
    message = "Sign in with a supervisor's or auditor's token to see decoded payloads in the Web UI."
    return web.Response(text=_LOGIN_PAGE.format(message=message), content_type="text/html")


def _login(config: CodecServerConfig) -> Handler:
    async def login(request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("token", "")).strip()
        try:
            actor = verify_token(token, config.trusted_keys(), config.clock())
        except TokenRefused as refused:
            page = _LOGIN_PAGE.format(message=f"Refused: {html.escape(str(refused))}")
            return web.Response(status=401, text=page, content_type="text/html")
        if not may_decode(actor):
            page = _LOGIN_PAGE.format(
                message=f"Refused: {html.escape(actor.subject)} may not decode payloads (supervisors and auditors only)"
            )
            return web.Response(status=403, text=page, content_type="text/html")
        lifetime = max(int((actor.expires_at - config.clock()).total_seconds()), 0)
        log.info("codec session opened", actor=actor.subject, expires_at=actor.expires_at.isoformat())
        page = _LOGIN_PAGE.format(
            message=f"Signed in as {html.escape(actor.subject)} until {actor.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        response = web.Response(text=page, content_type="text/html")
        response.set_cookie(SESSION_COOKIE, token, max_age=lifetime, httponly=True, samesite="Strict", path="/")
        return response

    return login


async def _logout(request: web.Request) -> web.Response:
    response = web.Response(text="signed out\n")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _encode(keys: KeyRing, payloads: Sequence[Payload]) -> list[Payload]:
    return [encrypt_payload(keys, payload) for payload in payloads]


def _decode(keys: KeyRing, payloads: Sequence[Payload]) -> list[Payload]:
    return [decrypt_payload(keys, payload) for payload in payloads]


@dataclass
class RunningCodecServer:
    url: str
    port: int
    runner: web.AppRunner

    async def stop(self) -> None:
        """Stop serving."""
        await self.runner.cleanup()


async def start_codec_server(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> RunningCodecServer:
    """Serve `app` on host:port (0 picks a free port)."""
    url, bound_port, runner = await serve_app(app, host, port)
    return RunningCodecServer(url=url, port=bound_port, runner=runner)
