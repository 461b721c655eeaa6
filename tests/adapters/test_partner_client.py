"""HttpPartnerCarriers against the real partner sandbox on 127.0.0.1: errors mapped, nothing retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from adapters.partner_carriers import HttpPartnerCarriers
from domain.msisdn import Carrier
from ports.partners import (
    CancelForwardingRequest,
    IdentityMismatch,
    JointVerificationRequest,
    PartnerCarriers,
    PartnerError,
    PartnerUnavailable,
    Remedy,
    UnknownNumber,
    UnknownPartner,
)
from sandboxes.partner_carrier import RunningSandbox, start_partner_sandbox
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER

CUSTOMER = FORWARDING_CUSTOMER
FORWARDING_PATH = f"/carriers/{CUSTOMER.partner_carrier}/forwardings/{CUSTOMER.partner_msisdn}"


def cancel_request(key: str = "case-1:cancel-forwarding", **overrides: Any) -> CancelForwardingRequest:
    fields: dict[str, Any] = {
        "carrier": CUSTOMER.partner_carrier,
        "msisdn": CUSTOMER.partner_msisdn,
        "holder_name": CUSTOMER.name,
        "id_number": CUSTOMER.id_number,
        "request_key": key,
    }
    return CancelForwardingRequest.model_validate(fields | overrides)


def verification_request(
    key: str = "case-7:joint-verification", **overrides: Any
) -> JointVerificationRequest:
    fields = {
        "agent_code": "AG-HZ-017",
        "msisdn": "13758250617",
        "complaint_ref": "case-7",
        "request_key": key,
    }
    return JointVerificationRequest.model_validate(fields | overrides)


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    running = await start_partner_sandbox()
    yield running
    await running.stop()


@pytest.fixture
async def partners(sandbox: RunningSandbox) -> AsyncIterator[HttpPartnerCarriers]:
    async with HttpPartnerCarriers(sandbox.url) as client:
        yield client


@pytest.fixture
async def admin(sandbox: RunningSandbox) -> AsyncIterator[aiohttp.ClientSession]:
    """Plain HTTP to the sandbox, to arrange faults and look at its state behind the adapter's back."""
    async with aiohttp.ClientSession(base_url=sandbox.url) as session:
        yield session


async def get(admin: aiohttp.ClientSession, path: str) -> Any:
    async with admin.get(path) as response:
        assert response.status == 200
        return await response.json()


async def set_faults(admin: aiohttp.ClientSession, **faults: Any) -> None:
    async with admin.post("/admin/faults", json=faults) as response:
        assert response.status == 200, await response.text()


def test_http_adapter_implements_the_port() -> None:
    assert isinstance(HttpPartnerCarriers("http://127.0.0.1:1"), PartnerCarriers)


def test_requests_validate_numbers_and_hide_the_id_number() -> None:
    request = cancel_request()
    assert request.carrier is Carrier.CHINA_UNICOM
    assert CUSTOMER.id_number not in repr(request)
    with pytest.raises(ValidationError, match="11 digits"):
        cancel_request(msisdn="1306789")
    with pytest.raises(ValidationError, match="check digit"):
        cancel_request(id_number="330106198001011234")
    with pytest.raises(ValidationError, match="request_key"):
        cancel_request(key="")
    with pytest.raises(ValidationError):
        verification_request(msisdn="not a number")


async def test_identity_mismatch_is_refused_and_the_forwarding_stays(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    with pytest.raises(IdentityMismatch) as caught:
        await partners.cancel_forwarding(cancel_request(id_number=STRANGER_ID_NUMBER))

    assert caught.value.fields == ("id_number",)
    assert "id_number" in str(caught.value)
    assert caught.value.retryable is False
    assert STRANGER_ID_NUMBER not in str(caught.value)
    assert CUSTOMER.partner_msisdn not in str(caught.value)  # masked: messages end up in histories
    assert (await get(admin, FORWARDING_PATH))["active"] is True


async def test_wrong_name_is_named(partners: HttpPartnerCarriers) -> None:
    with pytest.raises(IdentityMismatch, match="holder_name") as caught:
        await partners.cancel_forwarding(cancel_request(holder_name="钱女士"))
    assert caught.value.fields == ("holder_name",)


async def test_correct_identity_cancels_the_forwarding(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    result = await partners.cancel_forwarding(cancel_request())

    assert (result.status, result.effective, result.request_key) == (
        "cancelled",
        True,
        "case-1:cancel-forwarding",
    )
    assert result.cancelled_at is not None and result.cancelled_at.utcoffset() == UTC.utcoffset(None)
    forwarding = await get(admin, FORWARDING_PATH)
    assert forwarding["active"] is False


async def test_same_request_key_cancels_once(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    first = await partners.cancel_forwarding(cancel_request("case-1:cancel"))
    second = await partners.cancel_forwarding(cancel_request("case-1:cancel"))

    assert second == first
    stats = await get(admin, "/admin/stats")
    assert stats["effective_cancels"] == 1
    assert stats["by_msisdn"][CUSTOMER.partner_msisdn] == {"requests": 2, "effective": 1}

    later = await partners.cancel_forwarding(cancel_request("case-9:cancel"))
    assert (later.status, later.effective) == ("not_forwarding", False)


async def test_transient_failures_surface_once_each_without_retrying(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    await set_faults(admin, fail_next=2)

    for _ in range(2):
        with pytest.raises(PartnerUnavailable) as caught:
            await partners.cancel_forwarding(cancel_request())
        assert caught.value.status == 503
        assert caught.value.retryable is True
    result = await partners.cancel_forwarding(cancel_request())

    assert (result.status, result.effective) == ("cancelled", True)
    stats = await get(admin, "/admin/stats")
    assert stats["effective_cancels"] == 1
    assert stats["cancel_requests"] == 1  # the two failures never reached the partner's logic


async def test_a_lost_answer_is_recovered_by_retrying_with_the_same_key(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    await set_faults(admin, lose_next=1)

    with pytest.raises(PartnerUnavailable):
        await partners.cancel_forwarding(cancel_request("case-1:cancel"))
    retried = await partners.cancel_forwarding(cancel_request("case-1:cancel"))

    assert (retried.status, retried.effective) == ("cancelled", True)
    assert (await get(admin, "/admin/stats"))["effective_cancels"] == 1


async def test_latency_is_honoured(partners: HttpPartnerCarriers, admin: aiohttp.ClientSession) -> None:
    await set_faults(admin, latency_ms=300)
    loop = asyncio.get_running_loop()

    started = loop.time()
    await partners.cancel_forwarding(cancel_request())
    assert loop.time() - started >= 0.3


async def test_a_slow_partner_times_out_as_unavailable(
    sandbox: RunningSandbox, admin: aiohttp.ClientSession
) -> None:
    await set_faults(admin, latency_ms=1000)
    async with HttpPartnerCarriers(sandbox.url, timeout_seconds=0.1) as partners:
        with pytest.raises(PartnerUnavailable, match=r"no answer within 0\.1 s"):
            await partners.joint_verification(verification_request())


async def test_connection_refused_is_unavailable() -> None:
    stopped = await start_partner_sandbox()
    await stopped.stop()
    async with HttpPartnerCarriers(stopped.url) as partners:
        with pytest.raises(PartnerUnavailable, match="cannot reach"):
            await partners.cancel_forwarding(cancel_request())


async def test_unknown_number_and_partner(partners: HttpPartnerCarriers) -> None:
    with pytest.raises(UnknownNumber) as caught:
        await partners.cancel_forwarding(cancel_request(msisdn="13000000000"))
    assert caught.value.retryable is False
    assert "130****0000" in str(caught.value)

    with pytest.raises(UnknownNumber):
        await partners.joint_verification(verification_request(msisdn="13758250000"))
    with pytest.raises(UnknownPartner):
        await partners.joint_verification(verification_request(agent_code="AG-XX-999"))
    with pytest.raises(UnknownPartner):
        await partners.cancel_forwarding(cancel_request(carrier="china_broadnet"))


async def test_a_reused_request_key_is_a_non_retryable_error(partners: HttpPartnerCarriers) -> None:
    await partners.joint_verification(verification_request("key"))
    with pytest.raises(PartnerError, match="request_key_reused") as caught:
        await partners.joint_verification(verification_request("key", complaint_ref="case-8"))
    assert type(caught.value) is PartnerError
    assert caught.value.retryable is False


async def test_joint_verification_returns_the_seeded_remedy_idempotently(
    partners: HttpPartnerCarriers, admin: aiohttp.ClientSession
) -> None:
    result = await partners.joint_verification(verification_request())

    assert (result.agent_code, result.agent_name) == ("AG-HZ-017", "西湖区文三路代销店")
    assert (result.msisdn, result.plan_code, result.tariff_explained) == ("13758250617", "SZX-58", False)
    assert result.remedy == Remedy(kind="refund_plan_difference", amount_fen=3000, new_plan_code="SZX-18")
    assert result.finding

    assert await partners.joint_verification(verification_request()) == result
    assert (await get(admin, "/admin/stats"))["joint_verifications"] == 1


async def test_close_is_safe_before_use_and_twice(sandbox: RunningSandbox) -> None:
    partners = HttpPartnerCarriers(sandbox.url)
    await partners.close()
    await partners.joint_verification(verification_request())
    await partners.close()
    await partners.close()


async def test_a_callers_session_is_left_open(sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as session:
        async with HttpPartnerCarriers(sandbox.url, session=session) as partners:
            await partners.joint_verification(verification_request())
        assert not session.closed


async def test_the_partners_statement_lists_each_answered_request_once(partners: HttpPartnerCarriers) -> None:
    await partners.cancel_forwarding(cancel_request("case-1:cancel"))
    await partners.cancel_forwarding(cancel_request("case-1:cancel"))  # a retry: one request
    await partners.cancel_forwarding(cancel_request("case-2:cancel"))  # already off: answered, not effective
    verification = await partners.joint_verification(verification_request("case-7:verify"))
    with pytest.raises(IdentityMismatch):
        await partners.cancel_forwarding(cancel_request("case-3:cancel", id_number=STRANGER_ID_NUMBER))

    records = {record.request_key: record for record in await partners.records()}

    assert set(records) == {"case-1:cancel", "case-2:cancel", "case-7:verify"}  # refused: nothing carried out
    assert (records["case-1:cancel"].action, records["case-1:cancel"].effective) == ("cancel_forwarding", True)
    assert records["case-2:cancel"].effective is False
    assert records["case-7:verify"].partner == "AG-HZ-017"
    assert records["case-7:verify"].reference == verification.verification_id
