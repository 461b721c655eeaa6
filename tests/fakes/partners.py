"""The partners port in memory: the partner sandbox's own state (sandboxes/partner_state.py), no HTTP.

Same seed, same rules as the sandbox's endpoints: the identity check, unknown numbers and partners,
and one answer per request key, given again word for word to a retry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ports.partners import (
    CancelForwardingRequest,
    CancelForwardingResult,
    IdentityMismatch,
    JointVerificationRequest,
    JointVerificationResult,
    PartnerError,
    PartnerRecord,
    UnknownNumber,
    UnknownPartner,
)
from sandboxes.partner_endpoints import CARRIERS
from sandboxes.partner_state import PartnerState


class InMemoryPartnerCarriers:
    """`ports.partners.PartnerCarriers` over the sandbox's in-memory state."""

    def __init__(self) -> None:
        self.state = PartnerState(seed=0)

    async def cancel_forwarding(self, req: CancelForwardingRequest) -> CancelForwardingResult:
        """Cancel the forwarding after the identity check; one answer per request key."""
        carrier = req.carrier.value
        if carrier not in CARRIERS:
            raise UnknownPartner(f"no partner {carrier}")
        subscriber = self.state.subscribers.get((carrier, req.msisdn))
        if subscriber is None:
            self.state.stats.count_cancel(req.msisdn, effective=False)
            raise UnknownNumber(f"{carrier} holds no such number")
        wrong = [
            name
            for name, given, held in (
                ("holder_name", req.holder_name, subscriber.holder_name),
                ("id_number", req.id_number.upper(), subscriber.id_number),
            )
            if given != held
        ]
        if wrong:
            self.state.stats.count_cancel(req.msisdn, effective=False)
            raise IdentityMismatch(f"{' and '.join(wrong)} do not match the holder's record", fields=tuple(wrong))
        about = (carrier, req.msisdn)
        earlier = self.state.cancel_answers.get(req.request_key)
        if earlier is not None:
            self.state.stats.count_cancel(req.msisdn, effective=False)
            if earlier[0] != about:
                raise PartnerError("this request_key was already used for another number")
            return CancelForwardingResult.model_validate(earlier[1])
        effective = subscriber.active
        if effective:
            subscriber.active = False
            subscriber.cancelled_at = datetime.now(UTC)
        answer: dict[str, Any] = {
            "status": "cancelled" if effective else "not_forwarding",
            "effective": effective,
            "request_key": req.request_key,
            "cancelled_at": subscriber.cancelled_at,
        }
        self.state.cancel_answers[req.request_key] = (about, answer)
        self.state.stats.count_cancel(req.msisdn, effective=effective)
        return CancelForwardingResult.model_validate(answer)

    async def joint_verification(self, req: JointVerificationRequest) -> JointVerificationResult:
        """Verify the sale with its agent store; one answer per request key."""
        agent = self.state.agents.get(req.agent_code)
        if agent is None:
            raise UnknownPartner(f"no agent store {req.agent_code!r}")
        sale = agent.sales.get(req.msisdn)
        if sale is None:
            raise UnknownNumber(f"{req.agent_code} has no record of selling this number")
        about = (req.agent_code, req.msisdn, req.complaint_ref)
        earlier = self.state.verification_answers.get(req.request_key)
        if earlier is not None:
            if earlier[0] != about:
                raise PartnerError("this request_key was already used for another verification")
            return JointVerificationResult.model_validate(earlier[1])
        self.state.stats.joint_verifications += 1
        answer: dict[str, Any] = {
            "verification_id": f"JV-{req.agent_code}-{self.state.stats.joint_verifications:04d}",
            "agent_code": req.agent_code,
            "agent_name": agent.name,
            "msisdn": req.msisdn,
            "complaint_ref": req.complaint_ref,
            "plan_code": sale.plan_code,
            "tariff_explained": sale.tariff_explained,
            "finding": sale.finding,
            "remedy": dict(sale.remedy),
            "verified_at": datetime.now(UTC),
        }
        self.state.verification_answers[req.request_key] = (about, answer)
        return JointVerificationResult.model_validate(answer)

    async def records(self) -> list[PartnerRecord]:
        """The partners' statement of every request answered."""
        cancels = [
            PartnerRecord(request_key=key, partner=about[0], action="cancel_forwarding", effective=answer["effective"])
            for key, (about, answer) in self.state.cancel_answers.items()
        ]
        verifications = [
            PartnerRecord(
                request_key=key,
                partner=about[0],
                action="joint_verification",
                effective=True,
                reference=answer["verification_id"],
            )
            for key, (about, answer) in self.state.verification_answers.items()
        ]
        return cancels + verifications
