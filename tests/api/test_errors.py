"""An engine part that does not answer is 503 (try again), anything else unexpected is 500: TMF bodies both."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Security
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.security import READERS, Caller, require
from tests.api.conftest import AGENT, ApiEngine, bearer

router = APIRouter()


@router.get("/test/unavailable")
async def unavailable(caller: Annotated[Caller, Security(require(*READERS))]) -> None:
    raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")


@router.get("/test/broken")
async def broken(caller: Annotated[Caller, Security(require(*READERS))]) -> None:
    raise RuntimeError("a bug holding 13905710001")


async def test_unreachable_is_503_and_a_bug_is_500_without_its_details(api_engine: ApiEngine) -> None:
    app = create_app(api_engine.context, routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        down = await http.get("/test/unavailable", headers=bearer(AGENT))
        assert down.status_code == 503 and down.headers["Retry-After"] == "5"
        assert down.json()["code"] == "503" and down.json()["@type"] == "Error"
        bug = await http.get("/test/broken", headers=bearer(AGENT))
        assert bug.status_code == 500 and bug.json()["code"] == "500"
        assert "13905710001" not in bug.text and "a bug" not in bug.text
