"""The partners port's contract, held by HttpPartnerCarriers (the HTTP partner sandbox) and the in-memory
fake (tests/fakes/partners.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from adapters.partner_carriers import HttpPartnerCarriers
from domain.msisdn import Carrier
from ports.partners import (
    CancelForwardingRequest,
    IdentityMismatch,
    JointVerificationRequest,
    PartnerCarriers,
    UnknownNumber,
    UnknownPartner,
)
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER
from stories.tariff_dispute import TARIFF_AGENT_CODE, TARIFF_CUSTOMER
from tests.fakes.partners import InMemoryPartnerCarriers
from tests.helpers import reset_sandboxes


@pytest_asyncio.fixture(params=["http", "memory"])
async def partners(
    request: pytest.FixtureRequest, partner_url: str, pool: asyncpg.Pool
) -> AsyncIterator[PartnerCarriers]:
    if request.param == "memory":
        yield InMemoryPartnerCarriers()
        return
    await reset_sandboxes(partner_url, pool)
    async with HttpPartnerCarriers(partner_url) as client:
        yield client


def cancel(key: str, **overrides: object) -> CancelForwardingRequest:
    fields: dict[str, object] = {
        "carrier": FORWARDING_CUSTOMER.partner_carrier,
        "msisdn": FORWARDING_CUSTOMER.partner_msisdn,
        "holder_name": FORWARDING_CUSTOMER.name,
        "id_number": FORWARDING_CUSTOMER.id_number,
        "request_key": key,
    }
    fields.update(overrides)
    return CancelForwardingRequest.model_validate(fields)


async def test_a_cancel_is_effective_once_and_a_retry_gets_the_first_answer(partners: PartnerCarriers) -> None:
    key = f"C-{uuid.uuid4().hex[:8]}/cancel"
    first = await partners.cancel_forwarding(cancel(key))
    again = await partners.cancel_forwarding(cancel(key))
    assert (first.status, first.effective) == ("cancelled", True)
    assert again == first
    other = await partners.cancel_forwarding(cancel(f"{key}-2"))
    assert (other.status, other.effective) == ("not_forwarding", False)
    statement = {record.request_key: record for record in await partners.records()}
    assert statement[key].effective is True and statement[f"{key}-2"].effective is False


async def test_a_wrong_identity_is_refused_and_says_which_field(partners: PartnerCarriers) -> None:
    with pytest.raises(IdentityMismatch) as refused:
        await partners.cancel_forwarding(cancel("C-x/cancel", id_number=STRANGER_ID_NUMBER))
    assert refused.value.fields == ("id_number",)
    assert STRANGER_ID_NUMBER not in str(refused.value)
    assert refused.value.retryable is False


async def test_unknown_numbers_and_partners_are_typed_errors(partners: PartnerCarriers) -> None:
    with pytest.raises(UnknownNumber):
        await partners.cancel_forwarding(cancel("C-y/cancel", msisdn="13012345670"))
    with pytest.raises(UnknownPartner):
        await partners.cancel_forwarding(cancel("C-z/cancel", carrier=Carrier.CHINA_BROADNET, msisdn="19212345678"))


async def test_a_joint_verification_agrees_the_stories_remedy_once_per_key(partners: PartnerCarriers) -> None:
    request = JointVerificationRequest(
        agent_code=TARIFF_AGENT_CODE, msisdn=TARIFF_CUSTOMER.msisdn, complaint_ref="CASE-J1", request_key="CASE-J1/jv"
    )
    first = await partners.joint_verification(request)
    again = await partners.joint_verification(request)
    assert first.agent_code == TARIFF_AGENT_CODE and first.tariff_explained is False
    assert again.verification_id == first.verification_id and again.remedy == first.remedy
    with pytest.raises(UnknownNumber):
        await partners.joint_verification(request.model_copy(update={"msisdn": FORWARDING_CUSTOMER.msisdn,
                                                                     "request_key": "CASE-J2/jv"}))
