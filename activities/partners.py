"""Partner carriers and agent stores: cancel call forwarding, verify a sale jointly."""

from __future__ import annotations

from temporalio import activity

from activities.errors import permanent
from ports.partners import (
    CancelForwardingRequest,
    CancelForwardingResult,
    JointVerificationRequest,
    JointVerificationResult,
    PartnerCarriers,
    PartnerError,
)


class PartnerActivities:
    def __init__(self, partners: PartnerCarriers) -> None:
        self._partners = partners

    @activity.defn
    async def cancel_forwarding(self, request: CancelForwardingRequest) -> CancelForwardingResult:
        """Cancel the forwarding at the partner; the request key makes a retry a no-op there."""
        try:
            return await self._partners.cancel_forwarding(request)
        except PartnerError as error:
            # Transient failures propagate and are retried; refusals (wrong identity, unknown
            # number) stop at once, typed so the playbook can record the decision.
            if not error.retryable:
                raise permanent(error) from error
            raise

    @activity.defn
    async def joint_verification(self, request: JointVerificationRequest) -> JointVerificationResult:
        """Ask the agent store that sold the number to verify the sale with us."""
        try:
            return await self._partners.joint_verification(request)
        except PartnerError as error:
            if not error.retryable:
                raise permanent(error) from error
            raise
