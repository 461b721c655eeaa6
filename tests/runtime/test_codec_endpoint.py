"""The embedded runtime's codec server: the stock Web UI and the `temporal` CLI decode payloads through it,
for a supervisor's token only."""

from __future__ import annotations

import asyncio
import base64
import json
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest_asyncio

from auth.embedded import EmbeddedIssuer
from client.api import connect_temporal
from runtime.binaries import temporal_cli_path
from runtime.embedded import EmbeddedRuntime, free_port
from runtime.settings import Settings
from stories.forwarding_cancel import FORWARDING_CUSTOMER

ID_NUMBER = FORWARDING_CUSTOMER.id_number


@pytest_asyncio.fixture
async def runtime(tmp_path: Path, database_url: str) -> AsyncIterator[EmbeddedRuntime]:
    settings = Settings.from_env({
        "COMPLAINTS_DATA_DIR": str(tmp_path / "data"),
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "PARTNER_PORT": str(free_port()),
        "CODEC_PORT": str(free_port()),
        "PARTNER_URL": "http://127.0.0.1:9",  # not needed here
        "DATABASE_URL": database_url,  # the session's: only Temporal and the codec server are embedded here
    })
    async with EmbeddedRuntime(settings) as running:
        yield running


def _payload_text(history_json: str) -> str:
    """The payloads' data of `temporal workflow show --output json`, base64-decoded, and their encodings."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("data"), str) and isinstance(node.get("metadata"), dict):
                found.append(base64.b64decode(node["data"]).decode("utf-8", errors="replace"))
                found.extend(base64.b64decode(v).decode("utf-8", errors="replace") for v in node["metadata"].values())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history_json))
    assert found, "the history has payloads"
    return "\n".join(found)


async def _show(runtime: EmbeddedRuntime, workflow_id: str, *codec: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        temporal_cli_path(), "workflow", "show", "--workflow-id", workflow_id, "--output", "json",
        "--address", runtime.temporal_address, "--namespace", runtime.namespace, *codec,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_web_ui_and_the_cli_decode_through_the_codec_server_for_a_supervisor_only(
    runtime: EmbeddedRuntime,
) -> None:
    key_file = runtime.data_dir / "payload-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # the embedded default made its key

    # The dev server was started with --ui-codec-endpoint: its Web UI says where it decodes.
    assert runtime.ui_url is not None and runtime.codec_url is not None
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{runtime.ui_url}/api/v1/settings") as response:
            ui_settings = await response.json()
    assert ui_settings["Codec"]["Endpoint"] == runtime.codec_url

    # A workflow whose input carries an ID number, written through the project's client (so: encrypted).
    client = await connect_temporal(runtime.temporal_address, runtime.namespace, keys=runtime.key_ring)
    workflow_id = f"codec-{uuid.uuid4().hex[:8]}"
    await client.start_workflow("NobodyRunsThis", {"id_number": ID_NUMBER}, id=workflow_id,
                                task_queue=f"idle-{uuid.uuid4()}")

    status, raw, _ = await _show(runtime, workflow_id)
    assert status == 0
    assert "binary/encrypted" in _payload_text(raw) and ID_NUMBER not in _payload_text(raw) + raw

    issuer = EmbeddedIssuer.open(runtime.data_dir)
    now = datetime.now(UTC)
    supervisor, _ = issuer.login("sup-zhang", now)
    customer, _ = issuer.login("customer", now)
    endpoint = ("--codec-endpoint", runtime.codec_url)

    status, decoded, err = await _show(runtime, workflow_id, *endpoint, "--codec-auth", f"Bearer {supervisor}")
    assert status == 0, err
    assert ID_NUMBER in _payload_text(decoded) and "binary/encrypted" not in _payload_text(decoded)

    # A customer's token is refused (the CLI retries a few times, then gives up without showing anything).
    status, out, err = await _show(runtime, workflow_id, *endpoint, "--codec-auth", f"Bearer {customer}")
    assert status != 0, out
    assert ID_NUMBER not in out + err
    # No token at all: refused before anything is read.
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{runtime.codec_url}/decode", json=json.loads(raw)["events"][0][
            "workflowExecutionStartedEventAttributes"]["input"]) as response:
            assert response.status == 401
