"""arrears_dispute decisions: where a cancelled number's arrears come from, and what the answer means.

A prepaid number can still owe money: a call is charged when it ends, so a long call started with a
little balance left runs the balance below zero. The evidence is the last call before cancellation and
the balance history (资金变化明细): the arrears are *accounted for* when the history's last balance is
exactly minus the arrears the billing system shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.billing_records import BalanceChange, CallRecord, Customer
from domain.clock import local_day
from domain.masking import mask_msisdn
from domain.money import format_yuan
from domain.playbooks.common import Ending, already_remedied_summary, billed_minutes
from domain.state import Adjustment

SETTLE_QUESTION = "settle-arrears"
SETTLE_OPTIONS = ["pay", "dispute"]
NEW_NUMBER = "the number stays cancelled: a new number (and a plan that suits) may be sold to the customer"
Choice = Literal["pay", "dispute", "no_answer"]


class ArrearsExplanation(BaseModel):
    """What the account, the last call and the balance history say about the arrears."""

    model_config = ConfigDict(frozen=True)

    arrears_fen: int
    status: str
    account_type: str
    cancelled_on: date | None
    last_call_at: AwareDatetime | None
    last_call_type: str | None
    last_call_minutes: int | None
    last_call_fen: int | None
    balance_before_last_call_fen: int | None  # what was left when the last call started
    final_balance_fen: int | None  # the history's last balance; -arrears when accounted for
    accounted: bool

    @property
    def owes(self) -> bool:
        """Whether the number has arrears to settle."""
        return self.arrears_fen > 0

    def describe(self) -> str:
        """The account's status and arrears in words, for the case's evidence."""
        if not self.owes:
            return f"the number is {self.status} and owes nothing"
        text = f"the {self.account_type} number is {self.status}"
        if self.cancelled_on:
            text += f" (since {self.cancelled_on.isoformat()})"
        text += f" and owes {format_yuan(self.arrears_fen)}"
        if self.last_call_at is not None and self.last_call_fen is not None:
            text += (
                f"; its last call, {self.last_call_minutes} min {(self.last_call_type or '').replace('_', ' ')} "
                f"on {local_day(self.last_call_at).isoformat()}, "
                f"cost {format_yuan(self.last_call_fen)}"
            )
            if self.balance_before_last_call_fen is not None:
                text += f" with {format_yuan(self.balance_before_last_call_fen)} left"
        text += (
            ": the balance history accounts for the arrears exactly"
            if self.accounted
            else ": the balance history does NOT account for the arrears"
        )
        return text

    def facts(self) -> dict[str, Any]:
        """The account's facts as recorded in the evidence event."""
        return {
            "arrears_fen": self.arrears_fen,
            "status": self.status,
            "account_type": self.account_type,
            "cancelled_on": self.cancelled_on.isoformat() if self.cancelled_on else None,
            "last_call_at": self.last_call_at.isoformat() if self.last_call_at else None,
            "last_call_type": self.last_call_type,
            "last_call_minutes": self.last_call_minutes,
            "last_call_fen": self.last_call_fen,
            "balance_before_last_call_fen": self.balance_before_last_call_fen,
            "final_balance_fen": self.final_balance_fen,
            "accounted": self.accounted,
        }


def explain_arrears(
    account: Customer, last_call: CallRecord | None, history: Sequence[BalanceChange]
) -> ArrearsExplanation:
    """Put the account, its last call and its balance history side by side."""
    lines = sorted(history, key=lambda line: line.at)
    final = lines[-1].balance_after_fen if lines else None
    before_last_call = None
    if last_call is not None:
        # A call is booked when it ends: its usage line is the first one at or after its start.
        booked = next(
            (line for line in lines if line.kind == "usage" and line.at >= last_call.started_at), None
        )
        if booked is not None:
            before_last_call = booked.balance_after_fen - booked.amount_fen
    return ArrearsExplanation(
        arrears_fen=account.arrears_fen,
        status=account.status,
        account_type=account.account_type,
        cancelled_on=local_day(account.cancelled_at) if account.cancelled_at else None,
        last_call_at=last_call.started_at if last_call else None,
        last_call_type=last_call.call_type if last_call else None,
        last_call_minutes=billed_minutes(last_call.duration_seconds) if last_call else None,
        last_call_fen=last_call.charge_fen if last_call else None,
        balance_before_last_call_fen=before_last_call,
        final_balance_fen=final,
        accounted=final is not None and final == -account.arrears_fen,
    )


def settlement_choice(answer: str | None) -> Choice:
    """The customer's answer to SETTLE_QUESTION; silence leaves the arrears as they are."""
    if answer is None:
        return "no_answer"
    if answer not in SETTLE_OPTIONS:
        raise ValueError(f"{answer!r} is not one of {SETTLE_OPTIONS}")
    return "pay" if answer == "pay" else "dispute"


def waiver_reason(explanation: ArrearsExplanation) -> str:
    """Why the waiver is proposed, for the supervisor who decides on it."""
    basis = (
        "the history accounts for them (the last call ran past the balance)"
        if explanation.accounted
        else "the balance history does not account for them"
    )
    return (
        f"the customer disputes the {format_yuan(explanation.arrears_fen)} owed by the cancelled number; "
        f"{basis}. Waive them as a goodwill gesture?"
    )


def settlement_result(paid_fen: int, payment_reference: str | None, new_number: str) -> tuple[str, str]:
    """The outcome and summary once the customer chose to pay: paid now, or found already paid.

    `payment_reference` is the payment this case's request created (PAY-...), None when the billing
    system found nothing owed any more (another case, or the customer elsewhere, paid first).
    """
    if payment_reference is not None and paid_fen > 0:
        return "arrears_paid", f"The customer paid {format_yuan(paid_fen)} ({payment_reference}); {new_number}."
    return (
        "arrears_already_paid",
        f"Nothing was taken: the arrears had already been paid when the customer came to pay; {new_number}.",
    )


def waiver_ending(adjustment: Adjustment, refusal: str) -> Ending:
    """How a disputed arrears case ends after its waiver: waived, waived before, or refused and standing."""
    amount = format_yuan(adjustment.amount_fen)
    if adjustment.status == "applied":
        return Ending(outcome="arrears_waived", summary=f"{amount} waived (ledger {adjustment.ledger_id}, approved by "
                      f"{adjustment.decided_by}); {NEW_NUMBER}.")
    if adjustment.status == "already_remedied":
        return Ending(outcome="arrears_already_waived",
                      summary=f"The {amount} were {already_remedied_summary(adjustment)}; {NEW_NUMBER}.")
    return Ending(outcome="waiver_refused",
                  summary=f"The waiver of {amount} was refused ({adjustment.decided_by}): {refusal}. "
                  "The arrears stand.",
                  decision="arrears stand: the waiver was refused", decision_reason=refusal)


NOTHING_OWED_REASON = "the billing system shows no arrears on the number"
NO_ANSWER_REASON = "the customer did not answer: nothing was paid or waived"


def account_summary(account_type: str, brand: str, status: str, arrears_fen: int) -> str:
    """The evidence of the account: what it is, its status, what it owes."""
    return f"{account_type} {brand}, {status}, owes {format_yuan(arrears_fen)}"


def last_usage_summary(explanation: ArrearsExplanation, other_party: str | None, charge_fen: int) -> str:
    """The evidence of the last call (the other party masked), or that there was none."""
    if other_party is None:
        return "no calls on record"
    return (
        f"last call {explanation.last_call_minutes} min to {mask_msisdn(other_party)}, {format_yuan(charge_fen)}"
    )


def settle_question(explanation: ArrearsExplanation) -> str:
    """The choice put to the customer: pay the arrears, or dispute them."""
    return (
        f"The number owes {format_yuan(explanation.arrears_fen)} from its last call. Will you pay it, "
        "or do you dispute it?"
    )
