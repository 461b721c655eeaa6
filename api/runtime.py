"""Starting the API in a running process: beside the worker (`./run up`) or on its own (`python -m api`)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable

import asyncpg
import structlog
from fastapi import APIRouter

from api.app import create_app
from api.context import ApiContext
from api.serve import RunningApi, serve_api
from auth import trust
from auth.embedded import EmbeddedIssuer
from auth.tokens import TokenRefused, TrustedKeys
from cli.connect import QUERY_TIMEOUT, UPDATE_TIMEOUT, client_options
from client.api import ComplaintClient, connect_temporal
from domain.actors import ActorChannel
from runtime.settings import ConfigError, Settings
from store.event_store import PostgresEventStore
from store.pii import PersonalDataVault

log = structlog.get_logger("api")

DOCS_PATH = "/docs"


def installed_keys() -> TrustedKeys:
    """The keys auth.sources keeps fresh in this process (rotation reaches the API at once)."""
    keys = trust.installed()
    if keys is None:
        raise TokenRefused("this API trusts no signing key yet: it cannot accept any token")
    return keys


def api_identity() -> str:
    """The API's Temporal identity: the acts it relays are each proven by the caller's token in the update."""
    return f"complaints api {os.getpid()}@{socket.gethostname()}"


async def start_api(
    settings: Settings,
    temporal_address: str,
    pool: asyncpg.Pool,
    vault: PersonalDataVault,
    *,
    trusted_keys: Callable[[], TrustedKeys] = installed_keys,
    routers: Iterable[APIRouter] = (),
) -> RunningApi:
    """Serve the API on API_HOST:API_PORT over this Temporal and database. Raises ConfigError if the port is taken."""
    client = await connect_temporal(
        temporal_address, settings.temporal_namespace, keys=settings.payload_key_ring(), identity=api_identity()
    )
    complaints = ComplaintClient(
        client,
        options=client_options(settings),
        token_key=settings.msisdn_token_key,
        query_timeout=QUERY_TIMEOUT,
        update_timeout=UPDATE_TIMEOUT,
        channel=ActorChannel.API,
    )
    # The embedded issuer lets the console log people in by user id (as `starter login` does); with OIDC the
    # console takes the provider's token. The payload keys let it read the archived runs it shows.
    issuer = EmbeddedIssuer.open(settings.data_dir) if settings.uses_embedded_issuer else None
    context = ApiContext(complaints=complaints, pool=pool, store=PostgresEventStore(pool, vault),
                         trusted_keys=trusted_keys, issuer=issuer, payload_keys=settings.payload_key_ring())
    try:
        running = await serve_api(create_app(context, routers=routers), settings.api_host, settings.api_port)
    except OSError as error:
        raise ConfigError(
            f"API_PORT={settings.api_port}: the API cannot listen on {settings.api_host}:{settings.api_port} "
            f"({error.strerror or error}); stop what uses it or set API_PORT to a free port"
        ) from None
    log.info("API ready", url=running.url, tickets=f"{running.url}/tmf-api/troubleTicket/v5/troubleTicket",
             docs=f"{running.url}{DOCS_PATH}")
    return running
