"""validity_shortened decisions: which balance change cut the validity, and what the follow-up does.

The seed (record 4): 13819408540's validity fell from 2010-05-25 to 2008-11-26 because a batch
adjustment of -10 yuan (批量调整) clawed back a promotional over-credit (充值送饮料多返充). The store
agreed a deferred remedy: if the number is suspended when the validity runs out, extend it then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.billing_records import BalanceChange
from domain.clock import SHANGHAI, local_day, local_midnight
from domain.money import format_yuan
from domain.playbooks.common import Ending
from domain.state import Adjustment

# China has kept UTC+8 without daylight saving since 1991: a fixed offset needs no tz database.

VALIDITY_REMEDY_QUESTION = "validity-remedy"
RESTORE_NOW = "restore-now"
EXTEND_IF_SUSPENDED = "extend-if-suspended"
REMEDY_OPTIONS = [RESTORE_NOW, EXTEND_IF_SUSPENDED]
FOLLOW_UP_NAME = "extend-validity-if-suspended"


class ValidityCut(BaseModel):
    """A balance change that moved the validity earlier."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    kind: str
    amount_fen: int  # signed: -1000 for the seed's -10 yuan
    reason: str
    validity_before: date
    validity_after: date

    @property
    def days_lost(self) -> int:
        """How many days of validity the change took away."""
        return (self.validity_before - self.validity_after).days

    def facts(self) -> dict[str, object]:
        """JSON-able evidence: dates as ISO strings, money in fen."""
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "amount_fen": self.amount_fen,
            "reason": self.reason,
            "validity_before": self.validity_before.isoformat(),
            "validity_after": self.validity_after.isoformat(),
            "days_lost": self.days_lost,
        }

    def explanation(self) -> str:
        """What the store tells the customer."""
        return (
            f"On {self.at.astimezone(SHANGHAI):%Y-%m-%d} a {self.kind.replace('_', ' ')} of "
            f"{format_yuan(self.amount_fen)} ({self.reason}) moved the validity from "
            f"{self.validity_before.isoformat()} to {self.validity_after.isoformat()}, "
            f"{self.days_lost} days earlier."
        )


def find_validity_cut(history: Sequence[BalanceChange]) -> ValidityCut | None:
    """The most recent balance change that moved the validity earlier, or None if none did.

    A deduction that leaves the validity where it was (monthly usage) is not a cut; only a change
    whose validity after is before its validity before is.
    """
    cuts = [
        line
        for line in history
        if line.validity_before is not None
        and line.validity_after is not None
        and line.validity_after < line.validity_before
    ]
    if not cuts:
        return None
    latest = max(cuts, key=lambda line: line.at)
    assert latest.validity_before is not None and latest.validity_after is not None
    return ValidityCut(
        at=latest.at,
        kind=latest.kind,
        amount_fen=latest.amount_fen,
        reason=latest.reason,
        validity_before=latest.validity_before,
        validity_after=latest.validity_after,
    )


def already_restored(cut: ValidityCut, validity_until: date | None) -> bool:
    """Whether the validity already runs to where it was before the cut, so there is nothing to restore.

    A remediation campaign, an earlier case or a recharge may have given it back: it is not restored twice.
    """
    return validity_until is not None and validity_until >= cut.validity_before


def follow_up_due_at(validity_until: date) -> datetime:
    """When a validity runs out: the end of its last day in Asia/Shanghai (next midnight), in UTC."""
    return local_midnight(validity_until + timedelta(days=1))


class FollowUpPlan(BaseModel):
    """What the deferred remedy does when the validity has run out."""

    model_config = ConfigDict(frozen=True)

    action: Literal["extend", "nothing"]
    reactivate: bool
    reason: str


def plan_follow_up(
    *,
    status: str,
    validity_until: date | None,
    arrears_fen: int,
    extend_to: date,
    now: datetime,
) -> FollowUpPlan:
    """The promise: extend the validity if the number is suspended when it runs out; nothing otherwise.

    The number goes back to active only when the suspension is the expiry's doing: the validity has
    lapsed and nothing is owed. A number suspended for arrears stays suspended (its validity is still
    extended, as promised); a number the customer kept active needs nothing.
    """
    if status != "suspended":
        return FollowUpPlan(
            action="nothing", reactivate=False, reason=f"the number is {status}: nothing to do"
        )
    lapsed = validity_until is not None and validity_until < local_day(now)
    for_expiry = lapsed and arrears_fen == 0
    needs_extension = validity_until is None or validity_until < extend_to
    if not needs_extension:
        return FollowUpPlan(
            action="nothing",
            reactivate=False,
            reason=f"the validity already runs to {validity_until}: no extension needed",
        )
    if for_expiry:
        why = "suspended because the validity ran out: extend it and reactivate the number"
    elif arrears_fen:
        why = f"suspended with {format_yuan(arrears_fen)} owed: extend the validity, the arrears keep it suspended"
    else:
        why = "suspended before the validity ran out: extend the validity as promised"
    return FollowUpPlan(action="extend", reactivate=for_expiry, reason=why)


def restore_ending(adjustment: Adjustment, cut: ValidityCut, *, reactivated: bool = False) -> Ending:
    """How the case ends after restoring the validity now (and, for a campaign's case, reactivating it)."""
    if adjustment.status == "applied":
        again = " The number is active again." if reactivated else ""
        return Ending(outcome="validity_restored", summary=f"The validity runs to "
                      f"{cut.validity_before.isoformat()} again ({adjustment.ledger_id}).{again}")
    return Ending(outcome="validity_not_restored", summary=f"The restoration was {adjustment.status}; "
                  f"the validity stays {cut.validity_after.isoformat()}.")


NO_CUT_REASON = "no balance change moved the validity earlier: the validity follows the recharges"
NO_CUT_SUMMARY = "The balance history shows no change that shortened the validity: it follows the recharges."
NO_REMEDY_REASON = "the customer did not choose a remedy: nothing changed without their say"


def history_summary(cut: ValidityCut | None, changes: int) -> str:
    """What the balance history shows: the cut, explained, or that none moved the validity earlier."""
    return cut.explanation() if cut else f"{changes} balance changes, none moved the validity earlier"


def cut_decision_reason(cut: ValidityCut) -> str:
    """Why the case explains the cut and offers a remedy."""
    return f"{cut.explanation()} The customer did nothing wrong; offer a remedy."


def remedy_question(cut: ValidityCut) -> str:
    """The choice put to the customer: restore now, or extend when the validity runs out if suspended then."""
    return (
        f"{cut.explanation()} We can restore the validity to {cut.validity_before.isoformat()} now, or, "
        f"if your number is suspended when the validity runs out on {cut.validity_after.isoformat()}, "
        "extend it then."
    )
