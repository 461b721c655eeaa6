"""billing_spike's words: how a case ends, told to the customer, once the decisions are made.

The decisions (the spike, the unusual calls, the other party's records) are domain.playbooks.billing_spike's.
"""

from __future__ import annotations

from domain.money import format_yuan
from domain.playbooks.billing_spike import ADVICE, CallPattern, CounterpartComparison, Spike
from domain.playbooks.common import Ending, already_remedied_summary
from domain.state import Adjustment


def matches_usage_summary(spike: Spike, pattern: CallPattern) -> str:
    """The resolution when no call stands out: what the bills and calls show, and nothing more.

    (It claims no conversation with the customer: that is for an agent's note, when one took place.)
    """
    return f"{spike.describe()}; {pattern.describe()}: the bill follows the usage."


def declined_summary(pattern: CallPattern) -> str:
    """The resolution when the customer declined the comparison: the calls stand as recorded."""
    declined = "the customer declined the comparison, so the calls stand as recorded"
    return f"{pattern.describe()}; {declined}. Advice: {ADVICE}"


def records_agree_summary(pattern: CallPattern, comparison: CounterpartComparison) -> str:
    """The resolution when the other party's records agree with every flagged call."""
    return f"{pattern.describe()}; {comparison.describe()}: no refund. Advice: {ADVICE}"


def refund_ending(adjustment: Adjustment, refusal: str, found: str) -> Ending:
    """How a case ends after the refund of calls beyond the other party's records (`found` says which)."""
    amount = format_yuan(adjustment.amount_fen)
    if adjustment.status == "applied":
        return Ending(outcome="refunded", summary=f"{amount} refunded (ledger {adjustment.ledger_id}): {found}")
    if adjustment.status == "already_remedied":
        return Ending(outcome="already_refunded",
                      summary=f"The {amount} of disputed calls was {already_remedied_summary(adjustment)}.")
    return Ending(outcome="refund_refused", summary=f"The refund of {amount} was refused: {refusal}",
                  decision="no refund: the approver refused", decision_reason=refusal)
