"""The partners port: other carriers and agent stores, with the requests, answers and typed errors.

Activities depend on `PartnerCarriers`; adapters/partner_carriers.py speaks to the partner sandbox over
HTTP, tests/fakes/partners.py answers from memory, and a real carrier's gateway would be another class
with the same methods. Errors say whether retrying can help (`retryable`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.identity import IdNumber
from domain.money import Fen
from domain.msisdn import Carrier, Msisdn

# --- values --------------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PartnerAnswer(BaseModel):
    # A partner may add fields to its answers without breaking us.
    model_config = ConfigDict(frozen=True, extra="ignore")


class CancelForwardingRequest(_Request):
    """Cancel the call forwarding on another carrier's number, proving the holder's identity."""

    carrier: Carrier
    msisdn: Msisdn  # the number at the partner carrier that holds the forwarding
    holder_name: str = Field(min_length=1, max_length=100)
    id_number: IdNumber = Field(repr=False)
    request_key: str = Field(min_length=1, max_length=200)


class CancelForwardingResult(PartnerAnswer):
    status: Literal["cancelled", "not_forwarding"]
    effective: bool  # True when this request (or its first attempt) is what switched the forwarding off
    request_key: str
    cancelled_at: AwareDatetime | None


class JointVerificationRequest(_Request):
    """Verify a sale together with the agent store (代销店) that made it."""

    agent_code: str = Field(min_length=1, max_length=50)
    msisdn: Msisdn
    complaint_ref: str = Field(min_length=1, max_length=200)
    request_key: str = Field(min_length=1, max_length=200)


class Remedy(PartnerAnswer):
    """What the agent store agreed to: e.g. refund the plan difference and move to a cheaper plan."""

    kind: str
    amount_fen: Fen = 0
    new_plan_code: str | None = None


class JointVerificationResult(PartnerAnswer):
    verification_id: str
    agent_code: str
    agent_name: str
    msisdn: str
    plan_code: str
    tariff_explained: bool
    finding: str
    remedy: Remedy
    complaint_ref: str | None = None
    verified_at: datetime | None = None


class PartnerRecord(PartnerAnswer):
    """One request a partner says it carried out, from its statement (what reconciliation compares)."""

    request_key: str
    partner: str
    action: Literal["cancel_forwarding", "joint_verification"]
    effective: bool
    reference: str | None = None


# --- errors --------------------------------------------------------------------------------------


class PartnerError(Exception):
    """A partner refused or could not answer a request. Not retryable unless a subclass says so."""

    retryable: bool = False


class IdentityMismatch(PartnerError):
    """The holder's name or ID number did not match the partner's record; `fields` says which."""

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.fields = fields


class UnknownNumber(PartnerError):
    """The partner holds no such number (or the agent store never sold it)."""


class UnknownPartner(PartnerError):
    """No such carrier or agent store at this partner endpoint."""


class PartnerUnavailable(PartnerError):
    """A transient failure (5xx, timeout, refused or dropped connection): retrying may succeed."""

    retryable = True

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# --- the port ------------------------------------------------------------------------------------

@runtime_checkable
class PartnerCarriers(Protocol):
    """What the playbooks may ask of partner carriers and agent stores, and the statement reconciliation reads."""

    async def cancel_forwarding(self, req: CancelForwardingRequest) -> CancelForwardingResult:
        """Switch off the forwarding on the partner's number, once per `request_key`."""
        ...

    async def joint_verification(self, req: JointVerificationRequest) -> JointVerificationResult:
        """Verify a sale together with the agent store that made it, once per `request_key`."""
        ...

    async def records(self) -> list[PartnerRecord]:
        """The partners' statement: every request they answered, with its request key."""
        ...
