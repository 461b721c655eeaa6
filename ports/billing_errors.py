"""The billing port's typed errors: business answers that retrying will not change.

Connection problems are not among them: they surface as the adapter's own I/O errors, which a retry
may cure. Messages mask phone numbers (136****8765): they end up in workflow histories, stored in clear.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class BillingError(Exception):
    """The billing system's answer to a request it will not carry out; retrying will not change it."""


class InvalidBillingRequest(BillingError, ValueError):
    """Malformed input: a bad number, key, channel, amount or date range."""


class NotFound(BillingError):
    """The thing asked about does not exist in the billing system."""


class UnknownCustomer(NotFound):
    """No customer with this number."""


class UnknownTariffPlan(NotFound):
    pass


class UnknownAgentStore(NotFound):
    pass


class UnknownSubscription(NotFound):
    """The customer has no subscription to this SP service."""


class IdempotencyConflict(BillingError):
    """An idempotency key already used for a different request."""


class BillingRefused(BillingError):
    """A well-formed request that the account's state does not allow (e.g. refunding a cancelled number)."""


class PriorRemedy(BaseModel):
    """The ledger row that already remedied a charge: which case, when, which row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    charge: str  # the charge key, kind:record_id
    complaint_id: str
    ledger_id: str
    applied_at: AwareDatetime


class AlreadyRemedied(BillingError):
    """A charge this adjustment cites was already remedied (by any case): no money moves a second time."""

    def __init__(self, prior: PriorRemedy) -> None:
        super().__init__(
            f"{prior.charge} was already remedied on case {prior.complaint_id} ({prior.ledger_id})"
        )
        self.prior = prior


# --- values it returns ---------------------------------------------------------------------------
