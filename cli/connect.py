"""Connections for the command line: Temporal and PostgreSQL, with errors that say what to do."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
from temporalio.client import Client

from client.api import ClientOptions, ComplaintClient, connect_temporal
from runtime.settings import Settings


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit status 1."""


def temporal_address(settings: Settings) -> str:
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"


def client_options(settings: Settings) -> ClientOptions:
    """Where to send cases. No policy: approval limits, deadlines and the reopen window are the worker's."""
    return ClientOptions(task_queue=settings.task_queue)


async def temporal(settings: Settings, address: str | None = None) -> Client:
    address = address or temporal_address(settings)
    try:
        return await connect_temporal(address, settings.temporal_namespace)
    except RuntimeError as error:
        raise CliError(
            f"cannot reach Temporal at {address} ({error}): start the engine with `python worker.py` "
            "in another terminal, or set TEMPORAL_ADDRESS"
        ) from None


async def complaint_client(settings: Settings, address: str | None = None) -> ComplaintClient:
    return ComplaintClient(
        await temporal(settings, address), options=client_options(settings), token_key=settings.msisdn_token_key
    )


@contextlib.asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A small pool on DATABASE_URL, or on the embedded PostgreSQL of the data folder."""
    async with contextlib.AsyncExitStack() as stack:
        url = settings.database_url
        if url is None:
            from runtime.embedded import EmbeddedRuntimeError, embedded_database

            try:
                url = await stack.enter_async_context(embedded_database(settings.data_dir))
            except EmbeddedRuntimeError as error:
                raise CliError(str(error)) from None
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
        except (OSError, asyncpg.PostgresError) as error:
            raise CliError(f"cannot reach PostgreSQL ({error}): check DATABASE_URL") from None
        try:
            yield pool
        finally:
            await pool.close()
