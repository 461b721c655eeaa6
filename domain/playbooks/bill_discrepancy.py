"""bill_discrepancy decisions: compare the billing system, the self-service terminal and the web day by day.

Each day of the period is judged on its own:
- all three show the same amount: nothing to say;
- the terminal and the web both show the day, and the billing system charged more than either of them:
  an *overcharge* of the difference to the higher of the two (two independent channels must agree
  that we charged too much before money is given back twice over);
- one channel lacks the day or shows another amount while the other channel agrees with the billing
  system: that channel is *faulty* (missing days or differing days);
- anything else (e.g. only one channel shows the day, or all three differ): *unexplained*, for a person.

Reference numbers (other customers' numbers, whose channels are known to be sound) tell whether the
terminal is broken for every number or only for this customer's detail: the seed's store tried two
other numbers on the terminal first ("试了两个号码，发现数据一致").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain.billing_records import DailyCharge
from domain.money import format_yuan
from domain.playbooks.common import Ending, already_remedied_summary
from domain.state import Adjustment

Channel = Literal["billing", "terminal", "web"]
_CHANNELS: tuple[Channel, ...] = ("billing", "terminal", "web")
WITNESSES: tuple[Channel, Channel] = ("terminal", "web")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class OverchargeDay(_Value):
    day: date
    day_of_period: int
    billing_fen: int
    shown_fen: int  # the higher of what the terminal and the web show
    overcharge_fen: int


class ChannelComparison(_Value):
    """The day-by-day comparison of one customer's three channels over a period."""

    period_start: date
    period_end: date
    totals: dict[str, int]
    days_shown: dict[str, int]
    missing_days: dict[str, list[date]]  # per witness channel: days it lacks where the other agrees
    differing_days: dict[str, list[date]]  # per witness channel: days it shows another amount
    overcharge_days: list[OverchargeDay]
    unexplained_days: list[date]

    @property
    def overcharge_fen(self) -> int:
        """The total charged too much over the overcharged days, in fen."""
        return sum(day.overcharge_fen for day in self.overcharge_days)

    @property
    def faulty_channels(self) -> list[Channel]:
        """The witness channels that miss days or show different amounts."""
        return [c for c in WITNESSES if self.missing_days.get(c) or self.differing_days.get(c)]

    @property
    def consistent(self) -> bool:
        """Whether every channel agrees and no day is overcharged or unexplained."""
        return not (self.faulty_channels or self.overcharge_days or self.unexplained_days)

    def day_number(self, day: date) -> int:
        """The day's position in the billing period, the first day being 1."""
        return (day - self.period_start).days + 1

    def describe(self) -> str:
        """The comparison in words, for the case's evidence."""
        totals = ", ".join(f"{channel} {format_yuan(fen)}" for channel, fen in self.totals.items())
        parts = [f"totals {totals}"]
        for channel in WITNESSES:
            if missing := self.missing_days.get(channel):
                parts.append(f"the {channel} lacks {_days(self, missing)} where the others agree")
            if differing := self.differing_days.get(channel):
                parts.append(f"the {channel} shows other amounts on {_days(self, differing)}")
        if self.overcharge_days:
            days = _days(self, [d.day for d in self.overcharge_days])
            parts.append(
                f"the billing system charged {format_yuan(self.overcharge_fen)} more than both terminal and web "
                f"on {days}"
            )
        if self.unexplained_days:
            parts.append(f"unexplained differences on {_days(self, self.unexplained_days)}")
        if self.consistent:
            parts.append("all three channels agree on every day")
        return "; ".join(parts)

    def facts(self) -> dict[str, Any]:
        """The comparison's facts as recorded in the evidence event."""
        def listed(days: list[date]) -> list[str]:
            return [d.isoformat() for d in days]

        return {
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "totals_fen": dict(self.totals),
            "days_shown": dict(self.days_shown),
            "missing_days": {c: listed(days) for c, days in self.missing_days.items() if days},
            "missing_day_numbers": {
                c: [self.day_number(d) for d in days] for c, days in self.missing_days.items() if days
            },
            "differing_days": {c: listed(days) for c, days in self.differing_days.items() if days},
            "overcharge_days": [
                {
                    "day": d.day.isoformat(),
                    "day_of_period": d.day_of_period,
                    "billing_fen": d.billing_fen,
                    "shown_fen": d.shown_fen,
                    "overcharge_fen": d.overcharge_fen,
                }
                for d in self.overcharge_days
            ],
            "overcharge_fen": self.overcharge_fen,
            "unexplained_days": listed(self.unexplained_days),
            "faulty_channels": self.faulty_channels,
        }


def _days(comparison: ChannelComparison, days: list[date]) -> str:
    """'days 15-18' for a run, 'days 3, 9' otherwise: how the counter talks about a period."""
    numbers = [comparison.day_number(d) for d in days]
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"days {numbers[0]}-{numbers[-1]}"
    return ("day " if len(numbers) == 1 else "days ") + ", ".join(str(n) for n in numbers)


def _by_day(amounts: Sequence[DailyCharge]) -> dict[date, int]:
    return {amount.day: amount.amount_fen for amount in amounts}


def compare_channels(
    period_start: date,
    period_end: date,
    billing: Sequence[DailyCharge],
    terminal: Sequence[DailyCharge],
    web: Sequence[DailyCharge],
) -> ChannelComparison:
    """Judge every day of [period_start, period_end] by the rules of the module docstring."""
    if period_end < period_start:
        raise ValueError(f"the period ends ({period_end}) before it starts ({period_start})")
    shown: dict[Channel, dict[date, int]] = {
        "billing": _by_day(billing),
        "terminal": _by_day(terminal),
        "web": _by_day(web),
    }
    missing: dict[str, list[date]] = {"terminal": [], "web": []}
    differing: dict[str, list[date]] = {"terminal": [], "web": []}
    overcharges: list[OverchargeDay] = []
    unexplained: list[date] = []
    day = period_start
    while day <= period_end:
        b, t, w = (shown[channel].get(day) for channel in _CHANNELS)
        if (b is None and t is None and w is None) or b == t == w:
            pass
        elif b is not None and t is not None and w is not None and b > max(t, w):
            overcharges.append(
                OverchargeDay(
                    day=day,
                    day_of_period=(day - period_start).days + 1,
                    billing_fen=b,
                    shown_fen=max(t, w),
                    overcharge_fen=b - max(t, w),
                )
            )
        elif b is not None and w == b:  # the web backs the billing system: the terminal is off
            (missing if t is None else differing)["terminal"].append(day)
        elif b is not None and t == b:  # the terminal backs the billing system: the web is off
            (missing if w is None else differing)["web"].append(day)
        else:
            unexplained.append(day)
        day += timedelta(days=1)
    in_period = {
        channel: {d: fen for d, fen in days.items() if period_start <= d <= period_end}
        for channel, days in shown.items()
    }
    return ChannelComparison(
        period_start=period_start,
        period_end=period_end,
        totals={channel: sum(days.values()) for channel, days in in_period.items()},
        days_shown={channel: len(days) for channel, days in in_period.items()},
        missing_days=missing,
        differing_days=differing,
        overcharge_days=overcharges,
        unexplained_days=unexplained,
    )


def channel_agrees(billing: Sequence[DailyCharge], channel: Sequence[DailyCharge]) -> bool:
    """Whether a channel shows exactly the billing system's days and amounts (a reference number's test)."""
    return _by_day(billing) == _by_day(channel)


def references_agree(results: Mapping[str, bool]) -> bool | None:
    """True when the terminal matched the billing system for every reference number; None if none was tried."""
    return all(results.values()) if results else None


# --- the verdict -------------------------------------------------------------------------------------


class Verdict(_Value):
    """What to do: raise incidents on faulty channels, refund an overcharge twice over, or explain."""

    outcome: str  # before any refund: double_refund_due | terminal_incomplete | ... | bill_confirmed
    reason: str
    incident_channels: list[Channel]
    overcharge_fen: int

    @property
    def double_refund_fen(self) -> int:
        """Twice the overcharge: what the double-refund rule pays back, in fen."""
        return 2 * self.overcharge_fen


def channel_outcome(comparison: ChannelComparison, channel: str) -> str:
    """'terminal_incomplete' when the channel only lacks days, 'terminal_incorrect' when it shows wrong ones."""
    return f"{channel}_incorrect" if comparison.differing_days.get(channel) else f"{channel}_incomplete"


def decide(comparison: ChannelComparison, terminal_sound_elsewhere: bool | None) -> Verdict:
    """The playbook's decision from the comparison and the reference numbers' test of the terminal.

    An overcharge comes first (the customer was promised a double refund); channel faults are reported
    in every case, since the next customer would meet them too.
    """
    incidents = comparison.faulty_channels
    if comparison.overcharge_days:
        return Verdict(
            outcome="double_refund_due",
            reason=(
                f"the billing system charged {format_yuan(comparison.overcharge_fen)} more than both the terminal and "
                f"the web show{_reference_note(terminal_sound_elsewhere)}: an overcharge, refunded twice over "
                f"({format_yuan(2 * comparison.overcharge_fen)}) as promised"
            ),
            incident_channels=incidents,
            overcharge_fen=comparison.overcharge_fen,
        )
    if comparison.unexplained_days:
        return Verdict(
            outcome="unexplained_difference",
            reason="the channels disagree in a way no single faulty channel explains: billing support must check",
            incident_channels=incidents,
            overcharge_fen=0,
        )
    if incidents:
        channel = incidents[0]
        scope = (
            " for every number (the reference numbers disagree too)"
            if channel == "terminal" and terminal_sound_elsewhere is False
            else " for this number's detail (the reference numbers show correctly)"
            if channel == "terminal" and terminal_sound_elsewhere
            else ""
        )
        return Verdict(
            outcome=channel_outcome(comparison, channel),
            reason=(
                f"the billing system and the {'web' if channel == 'terminal' else 'terminal'} agree on every day: "
                f"no overcharge; the {channel} is faulty{scope}"
            ),
            incident_channels=incidents,
            overcharge_fen=0,
        )
    return Verdict(
        outcome="bill_confirmed",
        reason="the billing system, the terminal and the web agree on every day: the bill is right",
        incident_channels=[],
        overcharge_fen=0,
    )


def _reference_note(terminal_sound_elsewhere: bool | None) -> str:
    if terminal_sound_elsewhere:
        return ", and the terminal shows the reference numbers correctly"
    return ""


def incident_description(
    comparison: ChannelComparison, channel: str, terminal_sound_elsewhere: bool | None
) -> str:
    """The incident text for a faulty channel: what it lacks or gets wrong, and for whom."""
    parts = [f"Self-service {channel}" if channel == "terminal" else f"The {channel} channel"]
    if missing := comparison.missing_days.get(channel):
        parts.append(
            f"lacks {_days(comparison, missing)} of the period starting {comparison.period_start.isoformat()}"
        )
    if differing := comparison.differing_days.get(channel):
        parts.append(f"shows wrong amounts on {_days(comparison, differing)}")
    text = " ".join(parts[:1]) + " " + " and ".join(parts[1:])
    if channel == "terminal" and terminal_sound_elsewhere is not None:
        text += (
            "; reference numbers show correctly, so the fault is in this customer's detail"
            if terminal_sound_elsewhere
            else "; reference numbers are wrong too, so the terminal is faulty for every number"
        )
    other = "web" if channel == "terminal" else "terminal"
    return text + f". On those days the billing system and the {other} agree."


def overcharge_words(comparison: ChannelComparison) -> str:
    """The overcharged days as the customer is told them: day of the period and the amount too much."""
    return ", ".join(f"day {d.day_of_period} +{format_yuan(d.overcharge_fen)}" for d in comparison.overcharge_days)


def double_refund_reason(verdict: Verdict, days: str) -> str:
    """Why the double refund is proposed (the adjustment's reason)."""
    return f"overcharged {format_yuan(verdict.overcharge_fen)} ({days}): refunded twice over as promised"


def double_refund_ending(adjustment: Adjustment, refusal: str, verdict: Verdict, days: str, reported: str) -> Ending:
    """How an overcharged case ends after its double refund; `reported` names any incident raised."""
    over, double = format_yuan(verdict.overcharge_fen), format_yuan(verdict.double_refund_fen)
    if adjustment.status == "applied":
        return Ending(outcome="double_refunded", summary=f"The billing system overcharged {over} ({days}); "
                      f"{double} refunded (ledger {adjustment.ledger_id}).{reported}")
    if adjustment.status == "already_remedied":
        return Ending(outcome="already_refunded", summary=f"The overcharge of {over} ({days}) was "
                      f"{already_remedied_summary(adjustment)}.{reported}")
    return Ending(outcome="double_refund_refused",
                  summary=f"The double refund of {double} was refused ({adjustment.decided_by}): {refusal}.{reported}",
                  decision="no double refund: the approver refused", decision_reason=refusal)


def charges_summary(shown: Mapping[Channel, Sequence[DailyCharge]]) -> str:
    """The evidence of what each channel shows for the period: days and total."""
    return ", ".join(
        f"{channel} {len(days)} days {format_yuan(sum(d.amount_fen for d in days))}" for channel, days in shown.items()
    )


def references_summary(results: Mapping[str, bool], sound: bool | None) -> str:
    """The evidence of the terminal test with reference numbers (masked)."""
    if sound is None:
        return "no reference numbers to test the terminal with"
    return f"the terminal matches the billing system for {sum(results.values())} of {len(results)} reference numbers"
