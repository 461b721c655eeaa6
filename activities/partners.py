"""Partner carriers and agent stores: cancel call forwarding, verify a sale jointly."""

from __future__ import annotations

from temporalio import activity

from activities.errors import permanent
from adapters.partner_carriers import (
    CancelForwardingRequest,
    CancelForwardingResult,
    IdentityMismatch,
    JointVerificationRequest,
    JointVerificationResult,
    PartnerCarriers,
    UnknownNumber,
)


class PartnerActivities:
    def __init__(self, partners: PartnerCarriers) -> None:
        self._partners = partners

    @activity.defn
    async def cancel_forwarding(self, request: CancelForwardingRequest) -> CancelForwardingResult:
        """Cancel the forwarding at the partner; the request key makes a retry a no-op there."""
        try:
            return await self._partners.cancel_forwarding(request)
        except (IdentityMismatch, UnknownNumber) as error:
            raise permanent(error) from error

    @activity.defn
    async def joint_verification(self, request: JointVerificationRequest) -> JointVerificationResult:
        """Ask the agent store that sold the number to verify the sale with us."""
        try:
            return await self._partners.joint_verification(request)
        except UnknownNumber as error:
            raise permanent(error) from error
