"""The embedded runtime against the real binaries: start, use, stop, and resume on the same data."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import pytest
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest, RemoveSearchAttributesRequest
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client, WorkflowExecutionStatus

from codec.aes_gcm import KeyRing, key_ring_env
from runtime.embedded import EmbeddedRuntime, EmbeddedRuntimeError, free_port
from runtime.settings import Settings
from workflows import search_attributes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HAS_PARTNER_SANDBOX = importlib.util.find_spec("sandboxes.partner_carrier") is not None


def _settings(data_dir: Path, **env: str) -> Settings:
    base = {
        "COMPLAINTS_DATA_DIR": str(data_dir),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "PARTNER_PORT": str(free_port()),
        "CODEC_PORT": str(free_port()),
    }
    if not HAS_PARTNER_SANDBOX:
        # Until the sandbox exists, point at a (never called) external one and test the rest.
        base["PARTNER_URL"] = "http://127.0.0.1:9"
    return Settings.from_env({**base, **env})


async def _listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _custom_attributes(client: Client, namespace: str) -> dict[str, int]:
    response = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(response.custom_attributes)


def _expected_attributes() -> dict[str, int]:
    return {key.name: int(key.indexed_value_type) for key in search_attributes.ALL}


async def _partner_health(url: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as response:
        assert response.status == 200
        body = await response.json()
        assert isinstance(body, dict)
        return body


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    # The runtime must create it (and its parents) itself.
    return tmp_path / "nested" / "data"


async def test_start_stop_and_resume_on_the_same_data(data_dir: Path) -> None:
    settings = _settings(data_dir, TEMPORAL_NAMESPACE="complaints-test")
    workflow_id = f"resume-{uuid.uuid4()}"

    # --- first run: a fresh data folder ---
    runtime = EmbeddedRuntime(settings)
    await runtime.start()
    try:
        assert (data_dir / "temporal.db").is_file()
        assert (data_dir / "pg" / "PG_VERSION").is_file()
        assert runtime.ui_url == f"http://127.0.0.1:{settings.temporal_ui_port}"

        client = await Client.connect(runtime.temporal_address, namespace="complaints-test")
        assert _expected_attributes().items() <= (await _custom_attributes(client, "complaints-test")).items()
        # Something to find after the restart: a case nobody works on stays open.
        await client.start_workflow("NobodyRunsThis", id=workflow_id, task_queue=f"idle-{uuid.uuid4()}")
        # An attribute added to the code after the data folder was made: the restart must add it.
        await client.operator_service.remove_search_attributes(
            RemoveSearchAttributesRequest(search_attributes=["MsisdnToken"], namespace="complaints-test")
        )
        assert "MsisdnToken" not in await _custom_attributes(client, "complaints-test")

        conn = await asyncpg.connect(runtime.database_url)
        try:
            assert await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            applied = await conn.fetchval("SELECT count(*) FROM schema_migrations")
            await conn.execute("CREATE TABLE resume_marker (note text)")
            await conn.execute("INSERT INTO resume_marker VALUES ('first run')")
        finally:
            await conn.close()

        if HAS_PARTNER_SANDBOX:
            assert runtime.partner_url == f"http://127.0.0.1:{settings.partner_port}"
            assert (await _partner_health(runtime.partner_url))["status"] == "ok"
        pg_pid = runtime._pg_server.get_pid()  # type: ignore[union-attr]
    finally:
        await runtime.stop()

    # --- everything it started is gone ---
    assert not await _listening(settings.temporal_port)
    assert not await _listening(settings.partner_port)
    assert pg_pid is not None and not _pid_alive(pg_pid)

    # --- second run: the same folder resumes ---
    async with EmbeddedRuntime(settings) as again:
        client = await Client.connect(again.temporal_address, namespace="complaints-test")
        attributes = await _custom_attributes(client, "complaints-test")
        assert _expected_attributes().items() <= attributes.items()
        assert attributes["MsisdnToken"] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

        handle = client.get_workflow_handle(workflow_id)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await handle.terminate("test over")

        conn = await asyncpg.connect(again.database_url)
        try:
            assert await conn.fetchval("SELECT note FROM resume_marker") == "first run"
            assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == applied
        finally:
            await conn.close()
    assert not await _listening(settings.temporal_port)


async def test_a_second_runtime_attaches_and_leaves_the_services_running(data_dir: Path) -> None:
    settings = _settings(data_dir)
    async with EmbeddedRuntime(settings) as first:
        with structlog.testing.capture_logs() as logs:
            second = await EmbeddedRuntime(settings).__aenter__()
        try:
            assert second.temporal_address == first.temporal_address
            assert second.database_url == first.database_url
            assert second.partner_url == first.partner_url
            # What it attached to and will not stop, it says how to stop.
            temporal_pid = next(started.process.pid for started in first._processes if started.name == "temporal")
            pg_pid = first._pg_server.get_pid()  # type: ignore[union-attr]
            hints = {entry["event"].split(";")[0]: entry.get("stop_with") for entry in logs}
            assert hints["attached to running temporal server"] == f"kill {temporal_pid}"
            assert hints["attached to running postgres"] == f"kill -INT {pg_pid}"
        finally:
            await second.__aexit__(None, None, None)
        # The second one attached: leaving must not have stopped what the first one started.
        client = await Client.connect(first.temporal_address)
        await client.workflow_service.get_system_info(GetSystemInfoRequest())
        conn = await asyncpg.connect(first.database_url)
        await conn.close()
        if HAS_PARTNER_SANDBOX:
            assert (await _partner_health(first.partner_url))["status"] == "ok"
    assert not await _listening(settings.temporal_port)


async def test_a_port_taken_by_something_else_is_a_clear_error(tmp_path: Path) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    squatter = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = squatter.sockets[0].getsockname()[1]
    settings = _settings(
        tmp_path / "data",
        TEMPORAL_PORT=str(port),
        # Only Temporal is under test here.
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test",
        PARTNER_URL="http://127.0.0.1:9",
    )
    try:
        with pytest.raises(EmbeddedRuntimeError, match=rf"port {port} is in use .* set TEMPORAL_PORT"):
            async with EmbeddedRuntime(settings):
                pass
    finally:
        squatter.close()
        await squatter.wait_closed()


async def test_external_services_are_passed_through_untouched(tmp_path: Path) -> None:
    """With everything external nothing is started; only the migrations run, on the given database."""
    database = f"embedded_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    await admin.execute(f'CREATE DATABASE "{database}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    try:
        settings = _settings(
            tmp_path / "data",
            TEMPORAL_ADDRESS="temporal.example:7233",
            PAYLOAD_KEYS=key_ring_env(KeyRing.generate())["PAYLOAD_KEYS"],
            DATABASE_URL=url,
            PARTNER_URL="http://partner.example:8787",
        )
        async with EmbeddedRuntime(settings) as runtime:
            assert runtime.temporal_address == "temporal.example:7233"
            assert runtime.partner_url == "http://partner.example:8787"
            assert runtime.database_url == url
            assert runtime.ui_url is None
            assert not (tmp_path / "data").exists()  # nothing embedded: no data folder either
            conn = await asyncpg.connect(url)
            try:
                assert await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            finally:
                await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


def test_properties_before_start_say_so(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(_settings(tmp_path))
    with pytest.raises(EmbeddedRuntimeError, match="only once the runtime has started"):
        _ = runtime.temporal_address


def test_the_cli_explains_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runtime", "up", "--help"],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "usage: python -m runtime up" in result.stdout
    assert "resumes on the same data" in result.stdout


async def _runtime_up(settings: Settings, *, stdout: int) -> asyncio.subprocess.Process:
    """`python -m runtime up` on `settings`' data folder and ports, logging JSON to its stderr pipe."""
    env = {
        **os.environ,
        "COMPLAINTS_DATA_DIR": str(settings.data_dir),
        "TEMPORAL_PORT": str(settings.temporal_port),
        "TEMPORAL_UI_PORT": str(settings.temporal_ui_port),
        "PARTNER_PORT": str(settings.partner_port),
        "CODEC_PORT": str(settings.codec_port),
        "PARTNER_URL": settings.partner_url or "",
        "LOG_FORMAT": "json",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runtime", "up", cwd=PROJECT_ROOT, env=env, stdout=stdout, stderr=asyncio.subprocess.PIPE
    )


async def test_the_cli_stays_up_until_ctrl_c(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    process = await _runtime_up(settings, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        printed: list[str] = []
        while not printed or "Press Ctrl-C to stop." not in printed[-1]:
            line = await asyncio.wait_for(process.stdout.readline(), timeout=90)
            assert line, f"exited early: {(await process.stderr.read()).decode()}"
            printed.append(line.decode())
        summary = "".join(printed)
        assert f"127.0.0.1:{settings.temporal_port}" in summary
        assert f"http://127.0.0.1:{settings.temporal_ui_port}" in summary
        assert f"export TEMPORAL_ADDRESS='127.0.0.1:{settings.temporal_port}'" in summary
        assert await _listening(settings.temporal_port)

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not await _listening(settings.temporal_port)
    log_lines = [json.loads(line) for line in (await process.stderr.read()).decode().splitlines()]
    assert "ready" in [record["event"] for record in log_lines]


async def test_ctrl_c_while_starting_leaves_nothing_running(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    process = await _runtime_up(settings, stdout=asyncio.subprocess.DEVNULL)
    assert process.stderr is not None
    try:
        # A fresh data folder: PostgreSQL's initdb is still running when the signal comes.
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, "exited before starting PostgreSQL"
            if json.loads(line)["event"] == "starting postgres":
                break
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=60) == 130
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not await _listening(settings.temporal_port)
    assert not await _listening(settings.partner_port)
    assert not (settings.data_dir / "pg" / "postmaster.pid").exists()
