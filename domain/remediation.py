"""Remediation of one bad batch adjustment: what the batch did to each number, and what remedy it gets.

A batch adjustment (批量调整) touches every number in it. The seed's -10 yuan clawback took back a
promotional over-credit, rightly, but also the validity those 10 yuan had bought. Per number the harm
depends on where its validity stands now, which the billing system's rows tell:

- the batch moved no validity earlier (a credit, a usage correction): no harm;
- the validity had already run out before the batch came: it took no day of service, no harm;
- a recharge since (or an earlier remedy) moved the validity past where it was before the batch: healed;
- a cancelled number has no validity to give back: a person looks at it, the campaign does not;
- otherwise the validity ends `days_lost` days early (shortened); if it has since run out and the
  number is suspended, the number is suspended because of the batch (suspended).

The money is never refunded: the promotion was an over-credit and the clawback was right. The remedy
is the validity: restored to where it was before the batch, and a number suspended by the lapse (and
owing nothing) reactivated. Pure: no I/O, no clock; the caller hands in `today`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.actors import Actor, ActorChannel, Role
from domain.citations import Citation
from domain.clock import local_day
from domain.errors import InvalidCommand
from domain.money import format_yuan

_BATCH_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


class Harm(StrEnum):
    """What the batch did to one number."""

    SHORTENED = "shortened"  # validity ends earlier than before the batch, number still active
    SUSPENDED = "suspended"  # shortened validity has run out since, and the number is suspended
    NOT_CUT = "not_cut"  # the batch moved no validity earlier
    ALREADY_PAST = "already_past"  # validity had run out before the batch came
    TOPPED_UP = "topped_up"  # the validity now runs past where it was: a recharge since, or a remedy
    CANCELLED = "cancelled"  # the number is cancelled: no validity to give back

    @property
    def harmed(self) -> bool:
        """Whether this harm is one the campaign remedies (validity shortened or number suspended)."""
        return self in (Harm.SHORTENED, Harm.SUSPENDED)


class Remedy(StrEnum):
    RESTORE_VALIDITY = "restore_validity"
    RESTORE_AND_REACTIVATE = "restore_validity_and_reactivate"
    NONE = "none"


class BatchLine(BaseModel):
    """The balance-history row a batch wrote for one number, and that number as the billing system holds it now."""

    model_config = ConfigDict(frozen=True)

    msisdn: str
    at: AwareDatetime
    amount_fen: int  # signed: -1000 for the seed's clawback
    reason: str
    validity_before: date | None
    validity_after: date | None
    status: str  # active, suspended or cancelled, now
    validity_until: date | None  # now
    arrears_fen: int = 0


class Assessment(BaseModel):
    """The harm the batch did to one number and the remedy it gets, with the reason in words."""

    model_config = ConfigDict(frozen=True)

    msisdn: str
    harm: Harm
    remedy: Remedy
    reason: str
    days_lost: int = Field(default=0, ge=0)
    restore_to: date | None = None
    clawed_back_fen: int = 0  # what the batch took from the number (positive), kept: it was owed

    @property
    def harmed(self) -> bool:
        """Whether the batch harmed this number."""
        return self.harm.harmed

    def facts(self) -> dict[str, object]:
        """JSON-able evidence for the case the campaign opens."""
        return {
            "harm": self.harm.value,
            "remedy": self.remedy.value,
            "days_lost": self.days_lost,
            "restore_to": self.restore_to.isoformat() if self.restore_to else None,
            "clawed_back_fen": self.clawed_back_fen,
            "reason": self.reason,
        }


def check_batch_id(value: str) -> str:
    """A batch id as the billing system writes them: 3-32 capital letters, digits and '-'."""
    if not _BATCH_ID.match(value):
        raise InvalidCommand(
            f"batch id {value!r}: 3-32 capital letters, digits or '-', starting with a letter or digit"
        )
    return value


def assess(line: BatchLine, today: date) -> Assessment:
    """What the batch row `line` did to its number, as of `today` (a local calendar day)."""
    taken = max(-line.amount_fen, 0)

    def unharmed(harm: Harm, reason: str) -> Assessment:
        return Assessment(msisdn=line.msisdn, harm=harm, remedy=Remedy.NONE, reason=reason, clawed_back_fen=taken)

    before, after = line.validity_before, line.validity_after
    if before is None or after is None or after >= before:
        return unharmed(Harm.NOT_CUT, "the batch moved no validity earlier")
    batch_day = local_day(line.at)
    if before < batch_day:
        return unharmed(Harm.ALREADY_PAST, f"the validity had run out on {before} before the batch of {batch_day}")
    if line.status == "cancelled":
        return unharmed(Harm.CANCELLED, "the number is cancelled: no validity to give back")
    now = line.validity_until
    if now is not None and now >= before:
        return unharmed(Harm.TOPPED_UP, f"the validity now runs to {now}, past the {before} it had before the "
                        "batch: topped up since, or already remedied")
    current = now or after
    days = (before - current).days
    lapsed = current < today
    if line.status == "suspended" and lapsed:
        reactivate = line.arrears_fen == 0
        owed = "" if reactivate else f"; {format_yuan(line.arrears_fen)} owed keeps it suspended"
        return Assessment(
            msisdn=line.msisdn,
            harm=Harm.SUSPENDED,
            remedy=Remedy.RESTORE_AND_REACTIVATE if reactivate else Remedy.RESTORE_VALIDITY,
            reason=f"the batch cut the validity from {before} to {after}; it ran out on {current} and the number "
            f"was suspended: restore it to {before}{owed}",
            days_lost=days,
            restore_to=before,
            clawed_back_fen=taken,
        )
    return Assessment(
        msisdn=line.msisdn,
        harm=Harm.SHORTENED,
        remedy=Remedy.RESTORE_VALIDITY,
        reason=f"the batch cut the validity from {before} to {after}: restore it to {before} ({days} days)",
        days_lost=days,
        restore_to=before,
        clawed_back_fen=taken,
    )


class CampaignPlan(BaseModel):
    """What a campaign would do: the dry run's report, and the numbers the campaign itself reports."""

    model_config = ConfigDict(frozen=True)

    batch_id: str
    numbers: int  # every number the batch touched
    harmed: int  # each gets a case
    by_harm: dict[str, int]
    by_remedy: dict[str, int]  # harmed numbers only
    validity_days: int  # days of validity given back, in all
    clawed_back_fen: int  # what the batch took from the harmed numbers (kept: it was owed)
    refund_fen: int = 0  # money the remedies move: none

    def render(self) -> str:
        """The plan in words, for a person deciding whether to start the campaign."""
        lines = [
            f"batch {self.batch_id}: {self.numbers} numbers touched, {self.harmed} harmed (one case each)",
            "  by harm: " + ", ".join(f"{harm} {count}" for harm, count in sorted(self.by_harm.items())),
            "  remedies: " + (", ".join(f"{remedy} {count}" for remedy, count in sorted(self.by_remedy.items()))
                              or "none"),
            f"  validity given back: {self.validity_days} days in all",
            f"  money: {format_yuan(self.clawed_back_fen)} clawed back from the harmed numbers stays clawed back "
            f"(an over-credit); refunds {format_yuan(self.refund_fen)}",
        ]
        return "\n".join(lines)


def plan(batch_id: str, assessments: Iterable[Assessment]) -> CampaignPlan:
    """Sum up the assessments of every number of a batch."""
    items = list(assessments)
    harmed = [a for a in items if a.harmed]
    return CampaignPlan(
        batch_id=batch_id,
        numbers=len(items),
        harmed=len(harmed),
        by_harm=dict(Counter(a.harm.value for a in items)),
        by_remedy=dict(Counter(a.remedy.value for a in harmed)),
        validity_days=sum(a.days_lost for a in harmed),
        clawed_back_fen=sum(a.clawed_back_fen for a in harmed),
    )


def remediation_case_id(batch_id: str, ordinal: int) -> str:
    """The case id of the `ordinal`-th number of the batch (in number order).

    The same on every run, so a rerun finds the case already filed. It holds no phone number (ids are stored in clear).
    """
    return f"REM-{batch_id}-{ordinal:05d}"


# Who files a campaign's cases: the engine's campaign, on a supervisor's order. It has no token: the case
# proves its opening instead by the batch it names (activities.remediation.prove_campaign_case).
CAMPAIGN_FILER = Actor(id="remediation-campaign", role=Role.SYSTEM, channel=ActorChannel.ENGINE)


def remediation_ordinal(batch_id: str, complaint_id: str) -> int | None:
    """The batch position a campaign's case id names (remediation_case_id's inverse), or None if it names none."""
    prefix = f"REM-{batch_id}-"
    tail = complaint_id.removeprefix(prefix)
    if tail == complaint_id or not tail.isdigit() or remediation_case_id(batch_id, int(tail)) != complaint_id:
        return None
    return int(tail)


def campaign_id(batch_id: str) -> str:
    """The campaign's workflow id: one campaign per batch."""
    return f"remediation-{batch_id}"


def remediation_reason(batch_id: str) -> str:
    """What the cases say they are about (their description)."""
    return f"remediation of batch {batch_id}"


class RemediationLink(BaseModel):
    """What a case opened by a campaign carries from it.

    The batch, the campaign, the harm found and the batch rows it rests on. The case records it as evidence when it is
    filed.
    """

    model_config = ConfigDict(frozen=True)

    batch_id: str
    campaign_id: str
    assessment: Assessment
    citations: list[Citation]

    def summary(self) -> str:
        """The remedy's reason: the batch, the campaign and what the assessment found."""
        return f"{remediation_reason(self.batch_id)} (campaign {self.campaign_id}): {self.assessment.reason}"

    def facts(self) -> dict[str, object]:
        """The remedy's facts as recorded in the evidence event."""
        return {
            "batch_id": self.batch_id,
            "campaign_id": self.campaign_id,
            **self.assessment.facts(),
            "citations": [c.model_dump(mode="json") for c in self.citations],
        }
