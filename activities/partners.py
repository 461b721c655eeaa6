"""Partner carriers and agent stores: cancel call forwarding, verify a sale jointly."""

from __future__ import annotations

from temporalio import activity

from activities.errors import permanent
from activities.pending import Pending, SavesPendingEvents
from ports.event_store import EventStore
from ports.partners import (
    CancelForwardingRequest,
    CancelForwardingResult,
    JointVerificationRequest,
    JointVerificationResult,
    PartnerCarriers,
    PartnerError,
)


class PartnerActivities(SavesPendingEvents):
    def __init__(self, partners: PartnerCarriers, store: EventStore) -> None:
        super().__init__(store)
        self._partners = partners

    @activity.defn
    async def cancel_forwarding(
        self, request: CancelForwardingRequest, pending: Pending = None
    ) -> CancelForwardingResult:
        """Cancel the forwarding at the partner; the request key makes a retry a no-op there."""
        await self._save_pending(pending)
        try:
            return await self._partners.cancel_forwarding(request)
        except PartnerError as error:
            # Transient failures propagate and are retried; refusals (wrong identity, unknown
            # number) stop at once, typed so the playbook can record the decision.
            if not error.retryable:
                raise permanent(error) from error
            raise

    @activity.defn
    async def joint_verification(
        self, request: JointVerificationRequest, pending: Pending = None
    ) -> JointVerificationResult:
        """Ask the agent store that sold the number to verify the sale with us."""
        await self._save_pending(pending)
        try:
            return await self._partners.joint_verification(request)
        except PartnerError as error:
            if not error.retryable:
                raise permanent(error) from error
            raise
