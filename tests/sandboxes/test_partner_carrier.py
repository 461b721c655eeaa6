"""The partner sandbox over real HTTP on 127.0.0.1: identity checks, idempotency, faults, reset, CLI."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandboxes.partner_carrier import RunningSandbox, start_partner_sandbox
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER

REPO_ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = FORWARDING_CUSTOMER
FORWARDING_PATH = f"/carriers/{CUSTOMER.partner_carrier}/forwardings/{CUSTOMER.partner_msisdn}"
CANCEL_PATH = FORWARDING_PATH + "/cancel"
VERIFY_PATH = "/agents/AG-HZ-017/joint-verifications"


def cancel_body(key: str, **overrides: str) -> dict[str, str]:
    return {"request_key": key, "holder_name": CUSTOMER.name, "id_number": CUSTOMER.id_number, **overrides}


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    running = await start_partner_sandbox("127.0.0.1", 0, seed=7)
    yield running
    await running.stop()


@pytest.fixture
async def http(sandbox: RunningSandbox) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with http.request(method, path, json=body) as response:
        return response.status, await response.json()


async def test_health_and_url(sandbox: RunningSandbox, http: aiohttp.ClientSession) -> None:
    assert sandbox.port > 0
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}"
    assert await call(http, "GET", "/health") == (200, {"status": "ok"})


async def test_seeded_forwarding_is_active(http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "GET", FORWARDING_PATH)
    assert status == 200
    assert body == {
        "msisdn": CUSTOMER.partner_msisdn,
        "carrier": "china_unicom",
        "active": True,
        "forward_to": CUSTOMER.msisdn,
        "cancelled_at": None,
    }


async def test_unknown_number_and_carrier(http: aiohttp.ClientSession) -> None:
    status, body = await call(http, "GET", "/carriers/china_unicom/forwardings/13000000000")
    assert (status, body["error"]) == (404, "no_such_number")
    status, body = await call(
        http, "POST", "/carriers/china_unicom/forwardings/13000000000/cancel", cancel_body("k")
    )
    assert (status, body["error"]) == (404, "no_such_number")
    status, body = await call(http, "GET", f"/carriers/china_mobile/forwardings/{CUSTOMER.partner_msisdn}")
    assert (status, body["error"]) == (404, "no_such_carrier")


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"id_number": STRANGER_ID_NUMBER}, ["id_number"]),
        ({"holder_name": "钱女士"}, ["holder_name"]),
        ({"holder_name": "钱女士", "id_number": STRANGER_ID_NUMBER}, ["holder_name", "id_number"]),
    ],
)
async def test_identity_mismatch_names_the_field_and_changes_nothing(
    http: aiohttp.ClientSession, overrides: dict[str, str], fields: list[str]
) -> None:
    status, body = await call(http, "POST", CANCEL_PATH, cancel_body("wrong-identity", **overrides))

    assert status == 403
    assert body["error"] == "identity_mismatch"
    assert body["fields"] == fields
    for name in fields:
        assert name in body["detail"]
    # Neither the ID number given nor the one on record is echoed, not even in part.
    assert STRANGER_ID_NUMBER[6:] not in str(body)
    assert CUSTOMER.id_number[6:] not in str(body)
    assert (await call(http, "GET", FORWARDING_PATH))[1]["active"] is True


async def test_lower_case_x_in_id_number_is_the_same_id(http: aiohttp.ClientSession) -> None:
    await call(
        http,
        "PUT",
        "/carriers/china_telecom/forwardings/18912345678",
        {"holder_name": "孙女士", "id_number": "11010519491231002X", "forward_to": "13905710002"},
    )
    status, body = await call(
        http,
        "POST",
        "/carriers/china_telecom/forwardings/18912345678/cancel",
        {"request_key": "k", "holder_name": "孙女士", "id_number": "11010519491231002x"},
    )
    assert (status, body["status"]) == (200, "cancelled")


async def test_cancel_is_idempotent_by_request_key(http: aiohttp.ClientSession) -> None:
    status, first = await call(http, "POST", CANCEL_PATH, cancel_body("case-1:cancel"))
    assert status == 200
    assert first["status"] == "cancelled"
    assert first["effective"] is True
    assert first["request_key"] == "case-1:cancel"
    assert first["cancelled_at"] is not None

    async with http.post(CANCEL_PATH, json=cancel_body("case-1:cancel")) as response:
        assert response.status == 200
        assert response.headers["Idempotent-Replayed"] == "true"
        assert await response.json() == first

    # A new key finds nothing left to cancel.
    status, other = await call(http, "POST", CANCEL_PATH, cancel_body("case-2:cancel"))
    assert (status, other["status"], other["effective"]) == (200, "not_forwarding", False)
    assert other["cancelled_at"] == first["cancelled_at"]

    forwarding = (await call(http, "GET", FORWARDING_PATH))[1]
    assert (forwarding["active"], forwarding["cancelled_at"]) == (False, first["cancelled_at"])
    stats = (await call(http, "GET", "/admin/stats"))[1]
    assert stats["cancel_requests"] == 3
    assert stats["effective_cancels"] == 1
    assert stats["by_msisdn"] == {CUSTOMER.partner_msisdn: {"requests": 3, "effective": 1}}


async def test_request_key_reused_for_another_number_is_refused(http: aiohttp.ClientSession) -> None:
    await call(
        http,
        "PUT",
        "/carriers/china_unicom/forwardings/13111112222",
        {"holder_name": CUSTOMER.name, "id_number": CUSTOMER.id_number, "forward_to": CUSTOMER.msisdn},
    )
    assert (await call(http, "POST", CANCEL_PATH, cancel_body("same-key")))[0] == 200
    status, body = await call(
        http, "POST", "/carriers/china_unicom/forwardings/13111112222/cancel", cancel_body("same-key")
    )
    assert (status, body["error"]) == (409, "request_key_reused")
    assert (await call(http, "GET", "/carriers/china_unicom/forwardings/13111112222"))[1]["active"] is True


async def test_put_rearms_a_cancelled_forwarding(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", CANCEL_PATH, cancel_body("k1"))
    status, body = await call(
        http,
        "PUT",
        FORWARDING_PATH,
        {"holder_name": CUSTOMER.name, "id_number": CUSTOMER.id_number, "forward_to": CUSTOMER.msisdn},
    )
    assert status == 200
    assert (body["active"], body["cancelled_at"]) == (True, None)
    status, again = await call(http, "POST", CANCEL_PATH, cancel_body("k2"))
    assert (again["status"], again["effective"]) == ("cancelled", True)


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (
            {"holder_name": "赵先生", "id_number": "330106198001011234", "forward_to": "13905710001"},
            "check digit",
        ),
        ({"holder_name": "赵先生", "id_number": "330106198001011235", "forward_to": "1390571"}, "11 digits"),
        ({"holder_name": "", "id_number": "330106198001011235", "forward_to": "13905710001"}, "holder_name"),
    ],
)
async def test_put_refuses_bad_input(
    http: aiohttp.ClientSession, body: dict[str, str], complaint: str
) -> None:
    status, answer = await call(http, "PUT", "/carriers/china_unicom/forwardings/13222223333", body)
    assert (status, answer["error"]) == (400, "invalid_request")
    assert complaint in answer["detail"]
    assert (await call(http, "GET", "/carriers/china_unicom/forwardings/13222223333"))[0] == 404


async def test_cancel_without_request_key_is_refused(http: aiohttp.ClientSession) -> None:
    body = cancel_body("x")
    del body["request_key"]
    status, answer = await call(http, "POST", CANCEL_PATH, body)
    assert (status, answer["error"]) == (400, "invalid_request")
    assert "request_key" in answer["detail"]
    assert (await call(http, "GET", FORWARDING_PATH))[1]["active"] is True


async def test_fail_next_fails_exactly_that_many_partner_requests(http: aiohttp.ClientSession) -> None:
    assert (await call(http, "POST", "/admin/faults", {"fail_next": 2}))[1]["fail_next"] == 2

    # Health and admin are never faulted, and do not use up the count.
    assert (await call(http, "GET", "/health"))[0] == 200
    assert (await call(http, "GET", "/admin/faults"))[1]["fail_next"] == 2

    for _ in range(2):
        status, body = await call(http, "POST", CANCEL_PATH, cancel_body("k"))
        assert (status, body["error"]) == (503, "unavailable")
    # The failed requests were not applied.
    assert (await call(http, "GET", "/admin/stats"))[1]["cancel_requests"] == 0
    assert (await call(http, "GET", "/admin/faults"))[1]["fail_next"] == 0

    status, body = await call(http, "POST", CANCEL_PATH, cancel_body("k"))
    assert (status, body["effective"]) == (200, True)


async def test_lose_next_applies_then_answers_503_and_a_retry_learns_the_outcome(
    http: aiohttp.ClientSession,
) -> None:
    await call(http, "POST", "/admin/faults", {"lose_next": 1})

    status, _ = await call(http, "POST", CANCEL_PATH, cancel_body("lost-answer"))
    assert status == 503
    assert (await call(http, "GET", FORWARDING_PATH))[1]["active"] is False

    status, retried = await call(http, "POST", CANCEL_PATH, cancel_body("lost-answer"))
    assert (status, retried["status"], retried["effective"]) == (200, "cancelled", True)
    stats = (await call(http, "GET", "/admin/stats"))[1]
    assert (stats["cancel_requests"], stats["effective_cancels"]) == (2, 1)


async def outcomes(url: str, count: int) -> list[int]:
    async with aiohttp.ClientSession(base_url=url) as http:
        return [(await call(http, "GET", FORWARDING_PATH))[0] for _ in range(count)]


async def test_error_rate_is_random_but_repeatable_with_the_seed(
    sandbox: RunningSandbox, http: aiohttp.ClientSession
) -> None:
    await call(http, "POST", "/admin/faults", {"error_rate": 0.5, "seed": 42})
    first = await outcomes(sandbox.url, 40)
    await call(http, "POST", "/admin/faults", {"seed": 42})
    again = await outcomes(sandbox.url, 40)

    assert first == again
    assert set(first) == {200, 503}


async def test_latency_is_added_to_partner_requests_only(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", "/admin/faults", {"latency_ms": 250})
    loop = asyncio.get_running_loop()

    started = loop.time()
    assert (await call(http, "GET", FORWARDING_PATH))[0] == 200
    assert loop.time() - started >= 0.25

    # /health gets no latency: checked against the injected figure, not a wall-clock budget.
    await call(http, "POST", "/admin/faults", {"latency_ms": 60_000})
    assert (await asyncio.wait_for(call(http, "GET", "/health"), timeout=30))[0] == 200


@pytest.mark.parametrize(
    "body",
    [{"error_rate": 1.5}, {"latency_ms": -1}, {"fail_next": "2"}, {"latency_ms": 1.5}, {"chaos": True}, [1]],
)
async def test_bad_fault_settings_are_refused_and_change_nothing(
    http: aiohttp.ClientSession, body: Any
) -> None:
    await call(http, "POST", "/admin/faults", {"latency_ms": 5})
    status, answer = await call(http, "POST", "/admin/faults", body)
    assert (status, answer["error"]) == (400, "invalid_request")
    faults = (await call(http, "GET", "/admin/faults"))[1]
    assert (faults["latency_ms"], faults["error_rate"], faults["fail_next"]) == (5, 0.0, 0)


async def test_delete_faults_resets_them(http: aiohttp.ClientSession) -> None:
    await call(
        http, "POST", "/admin/faults", {"latency_ms": 10, "error_rate": 0.2, "fail_next": 3, "lose_next": 1}
    )
    status, faults = await call(http, "DELETE", "/admin/faults")
    assert status == 200
    assert (faults["latency_ms"], faults["error_rate"], faults["fail_next"], faults["lose_next"]) == (
        0,
        0.0,
        0,
        0,
    )
    assert (await call(http, "GET", FORWARDING_PATH))[0] == 200


async def test_joint_verification_finds_the_seeded_remedy_and_is_idempotent(
    http: aiohttp.ClientSession,
) -> None:
    request = {"request_key": "case-7:verify", "msisdn": "13758250617", "complaint_ref": "case-7"}
    status, first = await call(http, "POST", VERIFY_PATH, request)

    assert status == 200
    assert first["agent_code"] == "AG-HZ-017"
    assert first["agent_name"] == "西湖区文三路代销店"
    assert (first["msisdn"], first["plan_code"], first["tariff_explained"]) == (
        "13758250617",
        "SZX-58",
        False,
    )
    assert first["remedy"] == {
        "kind": "refund_plan_difference",
        "amount_fen": 3000,
        "new_plan_code": "SZX-18",
    }
    assert first["finding"]

    assert await call(http, "POST", VERIFY_PATH, request) == (200, first)
    assert (await call(http, "GET", "/admin/stats"))[1]["joint_verifications"] == 1

    status, second = await call(http, "POST", VERIFY_PATH, {**request, "request_key": "case-8:verify"})
    assert status == 200
    assert second["verification_id"] != first["verification_id"]
    assert (await call(http, "GET", "/admin/stats"))[1]["joint_verifications"] == 2


async def test_joint_verification_of_unknown_agent_or_number(http: aiohttp.ClientSession) -> None:
    request = {"request_key": "k", "msisdn": "13758250617", "complaint_ref": "case-7"}
    status, body = await call(http, "POST", "/agents/AG-XX-999/joint-verifications", request)
    assert (status, body["error"]) == (404, "no_such_agent")
    status, body = await call(http, "POST", VERIFY_PATH, {**request, "msisdn": "13758250000"})
    assert (status, body["error"]) == (404, "no_such_number")
    assert (await call(http, "GET", "/admin/stats"))[1]["joint_verifications"] == 0


async def test_faults_apply_to_agent_endpoints_too(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", "/admin/faults", {"fail_next": 1})
    request = {"request_key": "k", "msisdn": "13758250617", "complaint_ref": "case-7"}
    assert (await call(http, "POST", VERIFY_PATH, request))[0] == 503
    assert (await call(http, "POST", VERIFY_PATH, request))[0] == 200


async def test_reset_restores_the_seed(http: aiohttp.ClientSession) -> None:
    await call(http, "POST", CANCEL_PATH, cancel_body("before-reset"))
    await call(http, "POST", VERIFY_PATH, {"request_key": "v", "msisdn": "13758250617", "complaint_ref": "c"})
    await call(http, "POST", "/admin/faults", {"latency_ms": 5, "fail_next": 9})

    assert await call(http, "POST", "/admin/reset") == (200, {"status": "reset"})

    assert (await call(http, "GET", FORWARDING_PATH))[1]["active"] is True
    assert (await call(http, "GET", "/admin/stats"))[1] == {
        "cancel_requests": 0,
        "effective_cancels": 0,
        "by_msisdn": {},
        "joint_verifications": 0,
    }
    faults = (await call(http, "GET", "/admin/faults"))[1]
    assert (faults["latency_ms"], faults["fail_next"]) == (0, 0)
    # Request keys are forgotten too: the same key now cancels afresh.
    status, body = await call(http, "POST", CANCEL_PATH, cancel_body("before-reset"))
    assert (status, body["effective"]) == (200, True)


# --- the command line ------------------------------------------------------------------------------


def test_help_describes_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandboxes.partner_carrier", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--host", "--port", "--seed"):
        assert option in result.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_command_serves_until_told_to_stop(signum: signal.Signals) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandboxes.partner_carrier",
        "--port",
        "0",
        "--log-format",
        "json",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        match = re.search(rb'"url": "(http://127\.0\.0\.1:\d+)"', ready)
        assert match, ready
        async with aiohttp.ClientSession() as http, http.get(match.group(1).decode() + "/health") as response:
            assert response.status == 200
        process.send_signal(signum)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
