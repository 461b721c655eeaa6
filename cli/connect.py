"""Connections for the command line: Temporal and PostgreSQL, with errors that say what to do.

Exit statuses (documented in `starter.py --help` and the README): 0 done, 1 refused by the engine,
2 bad input or configuration, 3 engine unreachable, 4 not logged in (no login, or an expired or untrusted
one). The exception classes here carry them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from auth.tokens import TrustedKeys
from client.api import ClientOptions, ComplaintClient, connect_temporal
from domain.actors import ActorChannel
from runtime.settings import ConfigError, Settings
from workflows.messages import CaseView

EXIT_DONE = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_LOGGED_IN = 4

EXIT_CODES_HELP = """exit status:
  0  done
  1  refused by the engine (unknown case, a command the case does not accept, a complaint rejected at intake,
     a broken hash chain)
  2  bad input or configuration (nothing was sent)
  3  engine unreachable (Temporal, a worker or PostgreSQL); start it with `./run up`
  4  not logged in: no cached login, or it expired or is not signed by a trusted key (`starter login --as ID`)"""

START_COMMAND = "./run up"

# A person waits for these, so an engine that is not there must be said within a few seconds.
# A worker that is there answers a query in milliseconds. One stopped a moment ago still shows as a
# poller, and the SDK may retry a query that went to its sticky queue, so the CLI bounds the whole
# call itself (asyncio.wait_for), not only each RPC.
CONNECT_TIMEOUT = timedelta(seconds=3)
QUERY_TIMEOUT = timedelta(seconds=3)
# An update records its events through an activity before it answers: give a busy worker time. The CLI
# sends one only after a query showed that a worker is there, so this is not how a dead worker is found.
UPDATE_TIMEOUT = timedelta(seconds=30)
# A live worker renews its long poll at least every ~70 s; Temporal lists a gone poller for minutes after.
POLLER_GONE_AFTER = timedelta(minutes=2)


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit status 1 (refused) unless a subclass says else."""

    exit_code = EXIT_REFUSED


class BadInput(CliError):
    """The command line itself is wrong: nothing was sent."""

    exit_code = EXIT_BAD_INPUT


class EngineUnreachable(CliError):
    """Temporal, a worker or PostgreSQL does not answer."""

    exit_code = EXIT_UNREACHABLE


class NotLoggedIn(CliError):
    """No usable login: a person must log in (again) before the command can act. Nothing was sent."""

    exit_code = EXIT_NOT_LOGGED_IN


def temporal_address(settings: Settings) -> str:
    """The Temporal address to dial: the configured one, or the embedded server's local port."""
    return settings.temporal_address or f"127.0.0.1:{settings.temporal_port}"


def _start_hint(settings: Settings) -> str:
    if settings.temporal_address is None:
        return f"start the engine with `{START_COMMAND}` in another terminal, or set TEMPORAL_ADDRESS"
    return f"check TEMPORAL_ADDRESS, or start the embedded engine with `{START_COMMAND}` (TEMPORAL_ADDRESS unset)"


def client_options(settings: Settings) -> ClientOptions:
    """Where to send cases. No policy: approval limits, deadlines and the reopen window are the worker's."""
    return ClientOptions(task_queue=settings.task_queue)


async def temporal(settings: Settings, address: str | None = None, *, credential: str | None = None) -> Client:
    """A Temporal client whose identity names the logged-in user (see client.api.identity_for)."""
    address = address or temporal_address(settings)
    try:
        keys = settings.payload_key_ring()
    except ConfigError as error:
        raise BadInput(str(error)) from None
    try:
        return await asyncio.wait_for(
            connect_temporal(address, settings.temporal_namespace, keys=keys, credential=credential),
            CONNECT_TIMEOUT.total_seconds(),
        )
    except (RuntimeError, TimeoutError, OSError):
        # The raw error is a page of gRPC internals; what the user needs is where and what to start.
        raise EngineUnreachable(f"cannot reach Temporal at {address}: {_start_hint(settings)}") from None


async def require_worker(client: Client, settings: Settings) -> None:
    """Refuse at once when no worker polls the task queue: a query or update would hang until it timed out."""
    request = DescribeTaskQueueRequest(
        namespace=settings.temporal_namespace,
        task_queue=TaskQueue(name=settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    try:
        described = await client.workflow_service.describe_task_queue(request, timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status is RPCStatusCode.UNIMPLEMENTED:
            # A server that cannot describe task queues (the time-skipping test server) cannot say whether a
            # worker polls: go on, and let the bounded query say so if none answers.
            return
        raise EngineUnreachable(
            f"Temporal at {temporal_address(settings)} did not describe task queue {settings.task_queue!r} "
            f"({error.message}): {_start_hint(settings)}"
        ) from None
    now = datetime.now(UTC)
    live = [
        poller for poller in described.pollers
        if now - poller.last_access_time.ToDatetime(tzinfo=UTC) < POLLER_GONE_AFTER
    ]
    if not live:
        raise EngineUnreachable(
            f"no worker polls task queue {settings.task_queue!r} on Temporal at {temporal_address(settings)}: "
            f"start one with `{START_COMMAND}`"
        )


def no_worker_answered(settings: Settings) -> EngineUnreachable:
    """What to say when a query or update went unanswered: the worker is gone or stuck."""
    return EngineUnreachable(
        f"no worker answered in time on task queue {settings.task_queue!r} at "
        f"{temporal_address(settings)}: check that `{START_COMMAND}` is running (an update may still apply "
        "when a worker comes back; `show` says)"
    )


async def view_case(client: ComplaintClient, settings: Settings, complaint_id: str) -> CaseView:
    """The case as its workflow sees it, or EngineUnreachable within QUERY_TIMEOUT when no worker answers."""
    try:
        return await asyncio.wait_for(client.view(complaint_id), QUERY_TIMEOUT.total_seconds())
    except TimeoutError:
        raise no_worker_answered(settings) from None


async def complaint_client(
    settings: Settings,
    address: str | None = None,
    *,
    needs_worker: bool = True,
    case: str | None = None,
    token: str | None = None,
    trusted_keys: TrustedKeys | None = None,
) -> ComplaintClient:
    """A client for the CLI acting with `token` (a verified login).

    With `needs_worker`, only once a worker is there to answer.

    With `case`, the case's workflow must answer a query first: an update sent to a case no worker
    serves would wait, and might still apply much later, after the user was told it failed.
    """
    client = await temporal(settings, address, credential=token)
    if needs_worker:
        await require_worker(client, settings)
    complaints = ComplaintClient(
        client,
        options=client_options(settings),
        token_key=settings.msisdn_token_key,
        query_timeout=QUERY_TIMEOUT,
        update_timeout=UPDATE_TIMEOUT,
        credential=token,
        channel=ActorChannel.CLI,
        trusted_keys=trusted_keys,
    )
    if case is not None:
        await view_case(complaints, settings, case)
    return complaints


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
                raise EngineUnreachable(str(error)) from None
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=4, timeout=CONNECT_TIMEOUT.total_seconds())
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            raise EngineUnreachable(f"cannot reach PostgreSQL ({error}): check DATABASE_URL") from None
        try:
            yield pool
        finally:
            await pool.close()
