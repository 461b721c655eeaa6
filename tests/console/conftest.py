"""The console served for real: the API app (with the console mounted) on uvicorn on loopback, over the
command-line tests' engine (the suite's Temporal dev server, a worker, a database of its own, a data folder
whose embedded user directory signs with the test key), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

from api.app import create_app
from api.context import ApiContext
from api.serve import serve_api
from auth.embedded import EmbeddedIssuer
from store.event_store import PostgresEventStore
from tests.cli.conftest import CliEngine, cli_engine  # noqa: F401 (the engine fixture, reused)
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.identity import TEST_TRUSTED_KEYS

# Screenshots of the queue, the case and the dashboard: git-ignored, kept by CI as artifacts.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "console"


@dataclass(frozen=True)
class RunningConsole:
    url: str
    engine: CliEngine


@pytest_asyncio.fixture(scope="module")
async def console(cli_engine: CliEngine) -> AsyncIterator[RunningConsole]:  # noqa: F811
    issuer = EmbeddedIssuer.open(Path(cli_engine.env["COMPLAINTS_DATA_DIR"]))
    context = ApiContext(
        complaints=cli_engine.client, pool=cli_engine.pool, store=PostgresEventStore(cli_engine.pool),
        trusted_keys=lambda: TEST_TRUSTED_KEYS, issuer=issuer, payload_keys=TEST_PAYLOAD_KEYS,
    )
    running = await serve_api(create_app(context))
    yield RunningConsole(running.url, cli_engine)
    await running.stop()


def chromium_path() -> str:
    """Debian's Chromium: `./run tests` installs it (with a CJK font) when missing; nothing downloads one."""
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("no chromium on PATH: apt-get install chromium fonts-noto-cjk (./run tests does it as root)")
    return found


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        # --no-sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start.
        launched = await playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        await launched.close()
