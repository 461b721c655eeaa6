"""Shared fixtures: a real PostgreSQL database per session, the partner sandbox, and Temporal servers.

PostgreSQL comes from TEST_DATABASE_URL (default: the machine's server at 127.0.0.1:5432, database
`test`); each session creates its own database there and drops it at the end. If nothing answers,
an embedded pgserver in a temporary folder stands in, so a fresh machine without PostgreSQL still
runs the suite against a real server.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.partner_carriers import HttpPartnerCarriers
from client.api import ClientOptions, ComplaintClient
from codec.aes_gcm import KeyRing, encrypted_data_converter, key_ring_env
from domain.policy import Policy
from runtime.binaries import DEV_SERVER_TUNING, temporal_cli_path, temporal_test_server_path
from runtime.local_postgres import reachable_postgres
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from store.db import connect_pool
from tests.identity import TEST_TRUSTED_KEYS, FilingAsIntake
from worker import Dependencies, build_worker
from workflows import search_attributes

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN_KEY = "test-token-key-0123456789abcdef"
# One master key of personal data for the whole session, so stores built in the test process and the
# commands and workers it starts (which read the environment) open each other's keys.
TEST_PII_MASTER_KEY = "dGVzdC1vbmx5LXBpaS1tYXN0ZXIta2V5LTMyLWJ5dGU="
os.environ.setdefault("PII_MASTER_KEY", TEST_PII_MASTER_KEY)
# A generated payload key ring per test session: every test client and worker encrypts as production does.
TEST_PAYLOAD_KEYS = KeyRing.generate("test-session")
DATA_CONVERTER = encrypted_data_converter(TEST_PAYLOAD_KEYS)
# A deleted run leaves the dev server once its transfer queue's ack level passes the deletion, which it
# moves every 30 s by default: the archive test waited 31-33 s per deletion, 3.6-3.9 s with this (measured
# by deleting a finished run and describing it until NOT_FOUND). Tests only: production never waits on it.
QUICK_DELETION = ("--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="200ms"')
# The CLI commands and worker processes the tests run read their keys from the environment, as in production.
os.environ.update(key_ring_env(TEST_PAYLOAD_KEYS))


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{database}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A URL of a PostgreSQL server the tests may create databases on."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    with reachable_postgres(url, "complaints-pg-") as server_url:
        yield server_url


@pytest_asyncio.fixture(scope="session")
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A fresh database for this session, dropped at its end."""
    name = f"complaints_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's database, migrated, with the BOSS sandbox seeded."""
    pool = await connect_pool(database_url, max_size=20)
    async with pool.acquire() as conn:
        await seed_boss(conn, datetime.now(UTC).date())
    yield pool
    await pool.close()


@pytest_asyncio.fixture(scope="session")
async def partner_url() -> AsyncIterator[str]:
    sandbox = await start_partner_sandbox(port=0)
    yield sandbox.url
    await sandbox.stop()


@pytest_asyncio.fixture(scope="session")
async def deps(pool: asyncpg.Pool, partner_url: str) -> AsyncIterator[Dependencies]:
    async with HttpPartnerCarriers(partner_url) as partners:
        yield Dependencies(pool=pool, partners=partners)


@pytest_asyncio.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test: time only skips when no workflow anywhere on the server has
    work pending, so one test's leftovers (e.g. an abandoned archiver child) would stall the next."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER,
        test_server_existing_path=temporal_test_server_path(),
    )
    # The test server cannot list search attributes, but it does register them.
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={key.name: key.indexed_value_type for key in search_attributes.ALL},
        )
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server (SQLite in a temp folder), with the custom search attributes."""
    folder = tmp_path_factory.mktemp("temporal")
    env = await WorkflowEnvironment.start_local(
        data_converter=DATA_CONVERTER,
        dev_server_existing_path=temporal_cli_path(),
        dev_server_database_filename=str(folder / "temporal.db"),
        dev_server_extra_args=[*DEV_SERVER_TUNING, *QUICK_DELETION],
        search_attributes=search_attributes.ALL,
    )
    yield env
    await env.shutdown()


@contextlib.asynccontextmanager
async def engine(
    env: WorkflowEnvironment, deps: Dependencies, *, policy: Policy | Callable[[], Policy] | None = None
) -> AsyncIterator[ComplaintClient]:
    """A worker on a task queue of its own, with `policy` as its case policy, and a client filing onto it."""
    options = ClientOptions(task_queue=f"tq-{uuid.uuid4().hex}")
    current = (lambda: policy) if isinstance(policy, Policy) else policy
    worker: Worker = build_worker(env.client, deps, options.task_queue, policy=current, trusted_keys=TEST_TRUSTED_KEYS)
    async with worker:
        yield FilingAsIntake(env.client, options=options, token_key=TOKEN_KEY)
