"""Where the trusted keys come from, read at the edge (worker, starter, codec server), never inside a workflow.

- OIDC (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL set): the provider's JWKS, fetched over HTTP.
- Otherwise: the embedded issuer's public keys, from `<data dir>/auth/signing-keys.json`.

`keep_trusted_keys_fresh` reloads them every JWKS_REFRESH_SECONDS and installs a changed set (auth.trust):
rotation at the provider, or `EmbeddedIssuer.rotate()`, reaches a running worker without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import structlog

from auth import trust
from auth.embedded import EmbeddedIssuer
from auth.tokens import TrustedKeys
from runtime.settings import ConfigError, Settings

log = structlog.get_logger()

JWKS_FETCH_TIMEOUT_SECONDS = 10


async def load_trusted_keys(settings: Settings) -> TrustedKeys:
    """The keys this deployment trusts. Raises ConfigError (one line) when they cannot be had."""
    if settings.uses_embedded_issuer:
        return EmbeddedIssuer.open(settings.data_dir).trusted_keys()
    assert settings.oidc_jwks_url and settings.oidc_issuer and settings.oidc_audience
    try:
        timeout = aiohttp.ClientTimeout(total=JWKS_FETCH_TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(settings.oidc_jwks_url) as response:
                response.raise_for_status()
                jwks = await response.json(content_type=None)
        return TrustedKeys.from_jwks(
            jwks, issuer=settings.oidc_issuer, audience=settings.oidc_audience, roles_claim=settings.oidc_roles_claim
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise ConfigError(
            f"OIDC_JWKS_URL={settings.oidc_jwks_url!r}: cannot read the provider's signing keys ({error})"
        ) from None


@contextlib.asynccontextmanager
async def keep_trusted_keys_fresh(settings: Settings) -> AsyncIterator[TrustedKeys]:
    """Install the trusted keys now (failing at start if there are none), and reload them in the background."""
    keys = await load_trusted_keys(settings)
    trust.install(keys)
    log.info("trusting signing keys", issuer=keys.issuer, kids=list(keys.kids))

    async def refresh() -> None:
        current = keys
        while True:
            await asyncio.sleep(settings.jwks_refresh_seconds)
            try:
                fresh = await load_trusted_keys(settings)
            except ConfigError as error:
                # Keep the keys we have: a provider that blinks must not stop every act.
                log.warning("trusted keys not refreshed", error=str(error))
                continue
            if fresh != current:
                trust.install(fresh)
                log.info("trusted keys rotated", kids=list(fresh.kids), previous=list(current.kids))
                current = fresh

    task = asyncio.create_task(refresh())
    try:
        yield keys
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
