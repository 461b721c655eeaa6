"""What kind of case a complaint is: its category, priority, the channel it came through."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """The seven playbooks of design.md section 2."""

    BILLING_SPIKE = "billing_spike"
    ARREARS_DISPUTE = "arrears_dispute"
    BILL_DISCREPANCY = "bill_discrepancy"
    VALIDITY_SHORTENED = "validity_shortened"
    SPAM_SMS = "spam_sms"
    TARIFF_DISPUTE = "tariff_dispute"
    FORWARDING_CANCEL = "forwarding_cancel"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class IntakeChannel(StrEnum):
    STORE = "store"
    HOTLINE = "hotline"
    WEB = "web"


class Status(StrEnum):
    FILED = "filed"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_APPROVAL = "awaiting_approval"
    RESOLVED = "resolved"
    CLOSED = "closed"
    # A step could not go on by itself: a person resolves, reassigns or withdraws it.
    NEEDS_ATTENTION = "needs_attention"

    @property
    def is_open(self) -> bool:
        """Whether a case in this status is still open (anything but closed)."""
        return self is not Status.CLOSED
