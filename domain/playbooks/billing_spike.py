"""billing_spike decisions: how big the spike is, which calls stand out, what the other party's records say.

The rule for an unusual call (the store has to be able to explain it, so it is deliberately simple):
a call of the current period is *unusual* when it is at least `UNUSUAL_FACTOR` (5) times the median of
the customer's usual calls, in duration or in charge, and is not small in itself (at least 10 minutes or
5 yuan), so that a customer whose calls all last a minute does not see every 5-minute call flagged.
"Usual calls" are those of the closed billing periods; a customer with none yet is measured against the
current period's own calls (the median shrugs off the few long ones). The median is `median_low`, a real
call's value, so the arithmetic stays in whole seconds and fen.

The other party's switch keeps its own record of each call. A flagged call *agrees* with it when both
bill the same whole minutes; when the other side bills fewer, the difference (at the call's own per-minute
rate) is disputed and refunded; when the other side has no record at all, the whole charge is disputed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from statistics import median_low
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.billing_records import CallRecord, MonthlyBill
from domain.clock import local_midnight
from domain.masking import mask_msisdn
from domain.money import format_yuan
from domain.playbooks.common import billed_minutes

UNUSUAL_FACTOR = 5
MIN_UNUSUAL_SECONDS = 10 * 60
MIN_UNUSUAL_CHARGE_FEN = 500
# Two switches stamp the same call within a few seconds of each other; a minute is generous.
SAME_CALL_TOLERANCE = timedelta(seconds=60)

ADVICE = (
    "If a call was not meant to last that long, the phone may not have ended it: set the phone to end a "
    "call when the flip is closed (or press the end key before closing it), and check the call time shown "
    "after hanging up."
)
# Why no refund when both switches agree. It says what the records show, not what the customer did:
# only the customer or an agent can report that (e.g. in a note).
RECORDS_AGREE = (
    "both switches recorded the same calls, at the same times, for as long: the calls lasted as billed"
)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class NoCurrentBill(ValueError):
    """The billing system returned no open bill for the current period."""


def local_window(first: date, last: date) -> tuple[datetime, datetime]:
    """[first day 00:00, the day after `last` 00:00) in Shanghai time, as UTC instants."""
    return local_midnight(first), local_midnight(last + timedelta(days=1))


# --- the bill ---------------------------------------------------------------------------------------


class Spike(_Value):
    """This period's bill so far against the average of the closed ones."""

    current_start: date
    current_end: date
    current_fen: int
    usual_fen: int  # the average closed bill, rounded down to the fen
    closed_periods: int
    usual_from: date | None  # first day of the oldest closed period
    percent: int | None  # current as a percentage of usual (434 = 4.34 times); None with no history

    def describe(self) -> str:
        """This period against the closed bills in words, for the case's evidence."""
        if self.percent is None:
            return f"this period so far {format_yuan(self.current_fen)}; no closed bills to compare with"
        return (
            f"this period so far {format_yuan(self.current_fen)} against {format_yuan(self.usual_fen)} on average "
            f"over {self.closed_periods} closed periods: {self.percent // 100}.{self.percent % 100:02d} times"
        )

    def facts(self) -> dict[str, Any]:
        """The period comparison's facts as recorded in the evidence event."""
        return {
            "period_start": self.current_start.isoformat(),
            "period_end": self.current_end.isoformat(),
            "current_fen": self.current_fen,
            "usual_fen": self.usual_fen,
            "closed_periods": self.closed_periods,
            "spike_percent": self.percent,
        }


def measure_spike(bills: Sequence[MonthlyBill]) -> Spike:
    """The spike of the open bill over the average closed bill."""
    current = [bill for bill in bills if not bill.closed]
    if not current:
        raise NoCurrentBill("the billing system shows no open bill for the current period")
    bill = max(current, key=lambda b: b.period_start)
    closed = [b for b in bills if b.closed]
    usual = sum(b.total_fen for b in closed) // len(closed) if closed else 0
    return Spike(
        current_start=bill.period_start,
        current_end=bill.period_end,
        current_fen=bill.total_fen,
        usual_fen=usual,
        closed_periods=len(closed),
        usual_from=min(b.period_start for b in closed) if closed else None,
        percent=bill.total_fen * 100 // usual if usual > 0 else None,
    )


# --- the calls ----------------------------------------------------------------------------------------


class FlaggedCall(_Value):
    call_id: int
    other_party: str
    started_at: AwareDatetime
    duration_seconds: int
    charge_fen: int

    def facts(self) -> dict[str, Any]:
        """The unusual call's facts as recorded in the evidence event (the other party masked)."""
        return {
            "call_id": self.call_id,
            "other_party": mask_msisdn(self.other_party),
            "started_at": self.started_at.isoformat(),
            "duration_seconds": self.duration_seconds,
            "charge_fen": self.charge_fen,
        }


class CallPattern(_Value):
    """The customer's usual call and the current period's calls far outside it."""

    baseline: Literal["closed_periods", "current_period"]
    usual_calls: int
    median_seconds: int
    median_charge_fen: int
    current_calls: int
    flagged: tuple[FlaggedCall, ...]

    @property
    def flagged_fen(self) -> int:
        """The charge of every flagged call together, in fen."""
        return sum(call.charge_fen for call in self.flagged)

    @property
    def other_parties(self) -> list[str]:
        """The numbers the flagged calls went to, each once, sorted."""
        return sorted({call.other_party for call in self.flagged})

    def describe(self) -> str:
        """Which calls stand out and why, in words, for the case's evidence."""
        if not self.flagged:
            return (
                f"none of the {self.current_calls} calls this period stands out "
                f"(usual call {self.median_seconds} s, {format_yuan(self.median_charge_fen)})"
            )
        minutes = sum(billed_minutes(call.duration_seconds) for call in self.flagged)
        return (
            f"{len(self.flagged)} of {self.current_calls} calls stand out: {minutes} billed minutes, "
            f"{format_yuan(self.flagged_fen)}, against a usual call of {self.median_seconds} s "
            f"({format_yuan(self.median_charge_fen)})"
        )

    def facts(self) -> dict[str, Any]:
        """The flagging rule and the flagged calls as recorded in the evidence event."""
        return {
            "rule": f">= {UNUSUAL_FACTOR}x the median call in duration or charge, and >= "
            f"{MIN_UNUSUAL_SECONDS // 60} min or {format_yuan(MIN_UNUSUAL_CHARGE_FEN)}",
            "baseline": self.baseline,
            "usual_calls": self.usual_calls,
            "median_seconds": self.median_seconds,
            "median_charge_fen": self.median_charge_fen,
            "current_calls": self.current_calls,
            "flagged_fen": self.flagged_fen,
            "flagged": [call.facts() for call in self.flagged],
        }


def is_unusual(call: CallRecord, median_seconds: int, median_charge_fen: int) -> bool:
    """The rule of this module's docstring, for one call."""
    long = call.duration_seconds >= UNUSUAL_FACTOR * median_seconds and call.duration_seconds >= MIN_UNUSUAL_SECONDS
    dear = call.charge_fen >= UNUSUAL_FACTOR * median_charge_fen and call.charge_fen >= MIN_UNUSUAL_CHARGE_FEN
    return long or dear


def find_unusual_calls(usual: Sequence[CallRecord], current: Sequence[CallRecord]) -> CallPattern:
    """The current period's calls far outside the customer's usual pattern, oldest first."""
    baseline = usual if usual else current
    if not baseline:
        return CallPattern(baseline="closed_periods", usual_calls=0, median_seconds=0, median_charge_fen=0,
                           current_calls=0, flagged=())
    median_seconds = median_low(call.duration_seconds for call in baseline)
    median_charge = median_low(call.charge_fen for call in baseline)
    flagged = tuple(
        FlaggedCall(
            call_id=call.id,
            other_party=call.other_party,
            started_at=call.started_at,
            duration_seconds=call.duration_seconds,
            charge_fen=call.charge_fen,
        )
        for call in sorted(current, key=lambda c: (c.started_at, c.id))
        if is_unusual(call, median_seconds, median_charge)
    )
    return CallPattern(
        baseline="closed_periods" if usual else "current_period",
        usual_calls=len(baseline),
        median_seconds=median_seconds,
        median_charge_fen=median_charge,
        current_calls=len(current),
        flagged=flagged,
    )


# --- the other party's records ---------------------------------------------------------------------------

CallVerdict = Literal["agrees", "disagrees", "unverifiable"]


class CallComparison(_Value):
    call_id: int
    other_party: str
    started_at: AwareDatetime
    own_seconds: int
    other_seconds: int | None  # None: the other party's switch has no record of the call
    charge_fen: int
    disputed_fen: int
    verdict: CallVerdict

    def facts(self) -> dict[str, Any]:
        """The call comparison's facts as recorded in the evidence event (the other party masked)."""
        return {
            "call_id": self.call_id,
            "other_party": mask_msisdn(self.other_party),
            "started_at": self.started_at.isoformat(),
            "own_seconds": self.own_seconds,
            "other_seconds": self.other_seconds,
            "charge_fen": self.charge_fen,
            "disputed_fen": self.disputed_fen,
            "verdict": self.verdict,
        }


class CounterpartComparison(_Value):
    calls: tuple[CallComparison, ...]

    @property
    def disputed_fen(self) -> int:
        """The charge of the calls the other party's records do not support, in fen."""
        return sum(call.disputed_fen for call in self.calls)

    @property
    def all_agree(self) -> bool:
        """Whether the other party's records agree with every flagged call."""
        return all(call.verdict == "agrees" for call in self.calls)

    @property
    def unverifiable(self) -> list[CallComparison]:
        """The calls the other party has no record to compare with."""
        return [call for call in self.calls if call.verdict == "unverifiable"]

    @property
    def shorter(self) -> list[CallComparison]:
        """Calls the other party's switch recorded, for fewer billed minutes."""
        return [c for c in self.calls if c.verdict == "disagrees" and c.other_seconds is not None]

    @property
    def unrecorded(self) -> list[CallComparison]:
        """Calls the other party's switch (one we can read) has no record of at all."""
        return [c for c in self.calls if c.verdict == "disagrees" and c.other_seconds is None]

    @property
    def disputed_call_ids(self) -> list[int]:
        """The ids of the calls charged for more than the other party's records support."""
        return [c.call_id for c in self.calls if c.disputed_fen > 0]

    def describe(self) -> str:
        """The comparison with the other party's records in words, for the case's evidence."""
        agree = sum(1 for c in self.calls if c.verdict == "agrees")
        text = (
            f"of {len(self.calls)} flagged calls, {agree} agree with the other party's records "
            f"(same start, same billed minutes)"
        )
        if self.shorter:
            text += (
                f", {len(self.shorter)} were recorded shorter by the other party's switch "
                f"({format_yuan(sum(c.disputed_fen for c in self.shorter))} in dispute)"
            )
        if self.unrecorded:
            text += (
                f", {len(self.unrecorded)} have no record at all at the other party's switch "
                f"({format_yuan(sum(c.disputed_fen for c in self.unrecorded))} in dispute)"
            )
        if self.unverifiable:
            text += f", {len(self.unverifiable)} cannot be checked (the other party is another carrier's)"
        return text

    def refund_reason(self) -> str:
        """Why money goes back, in the words the records justify: shorter calls, or no record at all."""
        grounds = []
        if self.shorter:
            grounds.append(f"the other party's switch recorded {len(self.shorter)} of the calls shorter")
        if self.unrecorded:
            grounds.append(f"the other party's switch has no record of {len(self.unrecorded)} of the calls")
        return " and ".join(grounds or ["the records agree"]) + f": {self.describe()}"

    def facts(self) -> dict[str, Any]:
        """The comparison's facts as recorded in the evidence event."""
        return {
            "all_agree": self.all_agree,
            "disputed_fen": self.disputed_fen,
            "calls": [call.facts() for call in self.calls],
        }


def _disputed(call: FlaggedCall, other_seconds: int) -> int:
    """What the call was charged beyond the other side's billed minutes, at the call's own rate."""
    own = billed_minutes(call.duration_seconds)
    other = billed_minutes(other_seconds)
    if own == 0 or other >= own:
        return 0
    # The rate comes from the call itself, so a long-distance or roaming call keeps its own price.
    return call.charge_fen - call.charge_fen * other // own


def compare_with_counterpart(
    flagged: Iterable[FlaggedCall],
    records_by_party: Mapping[str, Sequence[CallRecord]],
    unavailable_parties: Iterable[str] = (),
) -> CounterpartComparison:
    """Match each flagged call to the other party's record of it (same start within a minute) and compare.

    `records_by_party` holds, per other party, that party's own records of its calls with the customer;
    parties in `unavailable_parties` keep their records with another carrier, so their calls are
    unverifiable rather than disputed.
    """
    unavailable = set(unavailable_parties)
    used: set[tuple[str, int]] = set()
    results = []
    for call in flagged:
        if call.other_party in unavailable or call.other_party not in records_by_party:
            results.append(_comparison(call, None, 0, "unverifiable"))
            continue
        candidates = [
            record
            for record in records_by_party[call.other_party]
            if (call.other_party, record.id) not in used
            and abs(record.started_at - call.started_at) <= SAME_CALL_TOLERANCE
        ]
        if not candidates:
            results.append(_comparison(call, None, call.charge_fen, "disagrees"))
            continue
        match = min(candidates, key=lambda r: (abs(r.started_at - call.started_at), r.id))
        used.add((call.other_party, match.id))
        same = billed_minutes(match.duration_seconds) == billed_minutes(call.duration_seconds)
        disputed = _disputed(call, match.duration_seconds)
        results.append(_comparison(call, match.duration_seconds, disputed, "agrees" if same else "disagrees"))
    return CounterpartComparison(calls=tuple(results))


def _comparison(
    call: FlaggedCall, other_seconds: int | None, disputed: int, verdict: CallVerdict
) -> CallComparison:
    return CallComparison(
        call_id=call.call_id,
        other_party=call.other_party,
        started_at=call.started_at,
        own_seconds=call.duration_seconds,
        other_seconds=other_seconds,
        charge_fen=call.charge_fen,
        disputed_fen=disputed,
        verdict=verdict,
    )
