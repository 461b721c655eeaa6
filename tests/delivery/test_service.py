"""`python -m delivery`, the relay as docker-compose.yml runs it: a process of its own on DATABASE_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from delivery import hub
from runtime.heartbeat import main as heartbeat_check
from tests.audit.conftest import AuditDb
from tests.delivery.cases import outbox_ids, stored_case
from tests.delivery.conftest import WebhookListener


async def test_the_relay_service_delivers_says_it_is_alive_and_stops_cleanly(
    audit_db: AuditDb, listener: WebhookListener
) -> None:
    await hub.register(audit_db.pool, listener.url, "", "sup-01")
    complaint_id = await stored_case(audit_db.pool)
    expected = await outbox_ids(audit_db.pool, complaint_id)
    env = {**os.environ, "DATABASE_URL": audit_db.url, "LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "delivery", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(1500):
            if len(listener.received) >= len(expected):
                break
            await asyncio.sleep(0.02)
        assert [r.event_id for r in listener.received] == expected
        assert heartbeat_check(["relay", "--max-age", "30"]) == 0
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert b'"relay stopped"' in out + err  # it finished its round and said so, in JSON


async def test_the_relay_service_needs_a_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "delivery", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 2
    assert b"DATABASE_URL is not set" in err
