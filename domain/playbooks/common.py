"""What every playbook shares.

The first words to the customer, identity checks, and how a case ends after an adjustment (`Ending`).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.cases import Category
from domain.clock import local_day
from domain.state import Adjustment

# The seed's first lesson: deal with the customer's feelings before the facts ("处理心情比处理事情更重要").
ACKNOWLEDGEMENTS: dict[Category, str] = {
    Category.BILLING_SPIKE: "We are sorry about the surprise on your bill; we will go through every call with you.",
    Category.ARREARS_DISPUTE: "We understand this is upsetting; we will show you exactly where the amount comes from.",
    Category.BILL_DISCREPANCY: "We will check every channel; if we charged you wrongly we refund it twice over.",
    Category.VALIDITY_SHORTENED: "We will find out why your validity changed and put it right.",
    Category.SPAM_SMS: "We are sorry for the junk messages; we will stop what we can and report the rest.",
    Category.TARIFF_DISPUTE: "We will check the tariff together with the store that sold you the number.",
    Category.FORWARDING_CANCEL: "We will get your calls reaching you again within 30 minutes.",
}


def identity_mismatch(
    on_file_name: str, on_file_id_number: str, given_name: str, given_id_number: str | None
) -> str | None:
    """Why the given identity does not match the one on file, or None when it does.

    The reason names the field that differs but never repeats the number itself.
    """
    if given_id_number is None:
        return "no ID number was given"
    if given_id_number.upper() != on_file_id_number.upper():
        return "the ID number does not match the one on file for this number"
    if given_name.strip() != on_file_name.strip():
        return "the name does not match the one on file for this number"
    return None


def billed_minutes(seconds: int) -> int:
    """Calls are billed by the started minute: 1 s is 1 minute, 61 s are 2."""
    return -(-seconds // 60)


def refusal_reason(timeline: Iterable[ev.Event], adjustment_id: str) -> str:
    """The reason the approver gave for refusing an adjustment (the latest refusal of it)."""
    reason = "refused"
    for event in timeline:
        if isinstance(event, ev.AdjustmentRefused) and event.adjustment_id == adjustment_id:
            reason = event.reason
    return reason


def already_remedied_summary(adjustment: Adjustment) -> str:
    """What the case says when the billing system found the charge already remedied: by whom, when, where."""
    verb = "waived" if adjustment.kind == "arrears_waiver" else "refunded"
    when = local_day(adjustment.remedied_at).isoformat() if adjustment.remedied_at else "?"
    return (
        f"already {verb} on case {adjustment.remedied_by} on {when}, ledger {adjustment.remedied_ledger_id}: "
        "no money moved this time"
    )


class Ending(BaseModel):
    """How a case ends once its adjustment is settled.

    The resolution's outcome and words, and for a refusal the decision recorded before it (the approver's reason, told
    to the customer).
    """

    model_config = ConfigDict(frozen=True)

    outcome: str
    summary: str
    decision: str | None = None
    decision_reason: str = ""
