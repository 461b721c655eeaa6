"""`./run up` (python worker.py on the embedded runtime) serves the API beside the worker and prints its URL."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runtime.embedded import free_port
from tests.api.conftest import AGENT, bearer
from tests.api.tickets import forwarding_ticket
from tests.identity import prepare_logins
from tests.runtime.worker_process import Worker, own_data_dir, worker_env

PRINTED = re.compile(r"API \(TMF621 troubleTicket\): (http://\S+/tmf-api/troubleTicket/v5/troubleTicket)")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with own_data_dir("api-up") as folder:
        folder.mkdir(parents=True)
        prepare_logins(folder)  # the data folder's issuer signs with the test key: the tests' tokens are trusted
        yield folder


async def test_up_serves_the_api_beside_the_worker(data_dir: Path) -> None:
    port = free_port()
    worker = Worker(worker_env(data_dir, API_PORT=str(port)), data_dir.parent / "worker.log").start()
    try:
        await worker.running()
        found = PRINTED.search(worker.log_text())
        assert found, worker.log_text()[-2000:]
        tickets = found.group(1)
        assert tickets.startswith(f"http://127.0.0.1:{port}/")
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(tickets)).status_code == 401
            filed = await http.post(tickets, json=forwarding_ticket(), headers=bearer(AGENT))
            assert filed.status_code == 201, filed.text
            listed = await http.get(tickets, headers=bearer(AGENT))
            assert listed.status_code == 200 and "X-Total-Count" in listed.headers
            docs = await http.get(tickets.split("/tmf-api")[0] + "/openapi.json")
            assert "/tmf-api/troubleTicket/v5/troubleTicket/{id}/answer" in docs.json()["paths"]
            # The console beside it logs people in from the embedded user directory, as the README says.
            login = await http.get(tickets.split("/tmf-api")[0] + "/console/login")
            assert login.status_code == 200 and 'name="user"' in login.text
    finally:
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)
        assert await worker.exit_code(60) == 0, worker.log_text()[-2000:]
