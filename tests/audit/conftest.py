"""Audit fixtures: a database of its own per test (tampering must not leak into other tests) and a
way to run starter.py's commands in-process against it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import structlog

import runtime.logging as runtime_logging
import starter
from store.db import connect_pool
from tests.conftest import _with_database
from tests.identity import prepare_logins


@dataclass(frozen=True)
class AuditDb:
    url: str
    pool: asyncpg.Pool


@pytest_asyncio.fixture
async def audit_db(server_url: str) -> AsyncIterator[AuditDb]:
    """A fresh, migrated database for one test, dropped after it."""
    name = f"complaints_audit_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(server_url, name)
    pool = await connect_pool(url, max_size=5)
    try:
        yield AuditDb(url, pool)
    finally:
        await pool.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    """Put the process's logging back as it was: starter.main and log captures reconfigure it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config, configured_with = structlog.get_config(), runtime_logging._configured_with
    chatty = {name: logging.getLogger(name).level for name in runtime_logging._CHATTY_LOGGERS}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.configure(**config)
        runtime_logging._configured_with = configured_with
        for name, chatty_level in chatty.items():
            logging.getLogger(name).setLevel(chatty_level)


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str


Cli = Callable[..., Awaitable[CliRun]]


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[Callable[[str], Cli]]:
    """`await cli(database_url)(*args)` runs `starter.py args` against that database, Temporal unset."""
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "data"))
    # Auditors read with a login; this one may see personal data (tests/cli/test_visibility.py masks it).
    prepare_logins(tmp_path / "data", current="auditor-pii")
    # Nothing may reach for Temporal: point it at a port where nothing listens.
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")

    def on(database_url: str) -> Cli:
        async def run(*args: str) -> CliRun:
            monkeypatch.setenv("DATABASE_URL", database_url)
            capsys.readouterr()
            # starter.main runs its own event loop: give it a thread of its own.
            code = await asyncio.to_thread(starter.main, list(args))
            captured = capsys.readouterr()
            return CliRun(code, captured.out, captured.err)

        return run

    with preserved_logging():
        yield on
