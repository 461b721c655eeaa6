"""Chaos-only fixtures: a Temporal dev server we may kill, worker processes, our own partner sandbox
and database.

Everything here is the suite's own: a dev server on a SQLite file in a temporary folder (on a free
port), a database created for the session on the test PostgreSQL server (dropped at the end), and
`python worker.py` processes pointed at them. Tests kill and restart these, never anything shared.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client

from client.api import ClientOptions, ComplaintClient
from sandboxes.boss_seed import rearm_stories, seed_boss
from store.db import connect_pool
from tests.chaos.partner import ChaosPartner, start_chaos_partner
from tests.chaos.processes import DevServer, EmbeddedPostgres, WorkerProcess, worker_env
from tests.conftest import DATA_CONVERTER, TOKEN_KEY, _with_database
from tests.identity import FilingAsIntake, prepare_logins

CHAOS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/chaos is a chaos test (`-m "not chaos"` skips them all)."""
    for item in items:
        if CHAOS_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.chaos)


@pytest.fixture(scope="session")
def chaos_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chaos")


@pytest_asyncio.fixture(scope="session")
async def temporal_server(chaos_dir: Path) -> AsyncIterator[DevServer]:
    """A dev server of our own, on a SQLite file: tests stop and restart it."""
    server = DevServer(chaos_dir / "temporal")
    await server.start()
    yield server
    await server.stop(signal.SIGTERM)


@pytest_asyncio.fixture(scope="session")
async def chaos_partner() -> AsyncIterator[ChaosPartner]:
    """A partner sandbox of our own, so injected faults never leak into other tests."""
    partner = await start_chaos_partner(seed=20261125)
    yield partner
    await partner.stop()


@pytest_asyncio.fixture(scope="session")
async def chaos_database_url(server_url: str) -> AsyncIterator[str]:
    """A database for the chaos suite (migrated, BOSS seeded), dropped at the end."""
    name = f"complaints_chaos_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    try:
        pool = await connect_pool(url)
        async with pool.acquire() as conn:
            await seed_boss(conn, datetime.now(UTC).date())
        await pool.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest_asyncio.fixture(scope="session")
async def chaos_pool(chaos_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await connect_pool(chaos_database_url, max_size=5)
    yield pool
    await pool.close()


@pytest_asyncio.fixture(autouse=True)
async def fresh_sandboxes(chaos_partner: ChaosPartner, chaos_pool: asyncpg.Pool) -> None:
    await chaos_partner.reset()
    async with chaos_pool.acquire() as conn:
        await rearm_stories(conn)


@pytest.fixture
def task_queue() -> str:
    return f"chaos-{uuid.uuid4().hex[:12]}"


SpawnWorker = Callable[..., Awaitable[WorkerProcess]]


@pytest_asyncio.fixture
async def spawn_worker(
    temporal_server: DevServer,
    chaos_partner: ChaosPartner,
    chaos_database_url: str,
    task_queue: str,
    tmp_path: Path,
) -> AsyncIterator[SpawnWorker]:
    """Start `python worker.py` processes on the test's task queue; all stopped at the end."""
    started: list[WorkerProcess] = []

    async def spawn(
        *, database_url: str | None = None, name: str = "worker", log_level: str = "INFO"
    ) -> WorkerProcess:
        # The worker trusts its data folder's embedded issuer: make that the tests' key (tests/identity.py).
        prepare_logins(tmp_path / "data")
        env = worker_env(
            temporal_address=temporal_server.address,
            database_url=database_url or chaos_database_url,
            partner_url=chaos_partner.url,
            task_queue=task_queue,
            data_dir=tmp_path / "data",
            token_key=TOKEN_KEY,
            log_level=log_level,
        )
        worker = WorkerProcess(env=env, log_path=tmp_path / f"{name}-{len(started)}.log")
        started.append(worker)
        return await worker.start()

    yield spawn
    for worker in started:
        await worker.stop()


@pytest_asyncio.fixture
async def client(temporal_server: DevServer, task_queue: str) -> ComplaintClient:
    """A ComplaintClient filing onto the test's task queue of our dev server."""
    temporal = await Client.connect(temporal_server.address, data_converter=DATA_CONVERTER)
    return FilingAsIntake(temporal, options=ClientOptions(task_queue=task_queue), token_key=TOKEN_KEY)


@pytest_asyncio.fixture
async def embedded_postgres() -> AsyncIterator[EmbeddedPostgres]:
    """A PostgreSQL cluster of the test's own (pgserver, in a temporary folder) that it may stop.

    Not under pytest's tmp_path: every pytest run on the machine resets /tmp/pytest-of-<user> to
    mode 0700, and pgserver runs PostgreSQL as another user when we are root.
    """
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="complaints-chaos-pg-")))
    await asyncio.to_thread(server.start)
    # A worker given DATABASE_URL seeds nothing (worker.seeds_sandbox): the test seeds its own sandbox.
    pool = await connect_pool(server.uri)
    try:
        async with pool.acquire() as conn:
            await seed_boss(conn, datetime.now(UTC).date())
    finally:
        await pool.close()
    yield server
    await asyncio.to_thread(server.close)
