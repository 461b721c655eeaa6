"""A running engine for the command-line tests: the suite's Temporal dev server, a worker on a task
queue of its own in this process, a database of its own (verify --all and rebuild-projections read
every case in it), and the environment that points a `starter.py` subprocess at all of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from adapters.partner_carriers import HttpPartnerCarriers
from client.api import ComplaintClient
from sandboxes.boss_seed import seed_boss
from store.db import connect_pool
from tests.cli.starter_process import starter_env
from tests.conftest import TOKEN_KEY, _with_database, engine
from tests.helpers import reset_sandboxes
from tests.identity import prepare_logins
from worker import Dependencies


@dataclass(frozen=True)
class CliEngine:
    client: ComplaintClient
    env: dict[str, str]
    pool: asyncpg.Pool
    task_queue: str


@pytest_asyncio.fixture(scope="module")
async def cli_engine(
    dev_env: WorkflowEnvironment, server_url: str, partner_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CliEngine]:
    name = f"complaints_cli_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    pool = await connect_pool(url, max_size=10)
    try:
        async with pool.acquire() as conn:
            await seed_boss(conn, datetime.now(UTC).date())
        await reset_sandboxes(partner_url, pool)
        async with HttpPartnerCarriers(partner_url) as partners:
            async with engine(dev_env, Dependencies(pool=pool, partners=partners)) as client:
                data_dir = Path(tmp_path_factory.mktemp("cli-data"))
                prepare_logins(data_dir)
                env = starter_env(
                    TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
                    COMPLAINTS_TASK_QUEUE=client.options.task_queue,
                    MSISDN_TOKEN_KEY=TOKEN_KEY,
                    DATABASE_URL=url,
                    PARTNER_URL=partner_url,
                    COMPLAINTS_DATA_DIR=str(data_dir),
                )
                yield CliEngine(client, env, pool, client.options.task_queue)
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
