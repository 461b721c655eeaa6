"""tariff_dispute decisions: turn the joint verification with the agent store into a remedy.

The seed (record 6): the number came from an agent store (代销店); sending the customer there made
things worse. The store went with the customer to the agent store, verified the sale together and
agreed a solution. Here: if the agent store did not explain the tariff, the remedy it agreed
(refund the plan difference, move to the cheaper plan) is applied; if it did, we explain the tariff.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.money import format_yuan
from domain.playbooks.common import Ending, already_remedied_summary
from domain.state import Adjustment


class TariffRemedy(BaseModel):
    """What the case does after the joint verification."""

    model_config = ConfigDict(frozen=True)

    action: Literal["agent_remedy", "explain"]
    refund_fen: int = Field(default=0, ge=0)
    new_plan_code: str | None = None
    reason: str


def decide_tariff_remedy(
    *,
    tariff_explained: bool,
    finding: str,
    agreed_refund_fen: int,
    agreed_plan_code: str | None,
    current_plan_code: str,
) -> TariffRemedy:
    """The remedy the joint verification leads to.

    Not explained at sale: the store's failure, so the agreed remedy applies (a plan change to the
    plan the customer is already on is no change). Explained: no money moves; the customer gets the
    tariff explained again, with the agent store's finding.
    """
    if tariff_explained:
        return TariffRemedy(
            action="explain",
            reason=f"the agent store explained the tariff at sale ({finding}): explain it again, no refund",
        )
    new_plan = agreed_plan_code if agreed_plan_code and agreed_plan_code != current_plan_code else None
    parts = []
    if agreed_refund_fen > 0:
        parts.append(f"refund the plan difference of {format_yuan(agreed_refund_fen)}")
    if new_plan:
        parts.append(f"move from {current_plan_code} to {new_plan}")
    agreed = " and ".join(parts) or "no money or plan change (an apology)"
    return TariffRemedy(
        action="agent_remedy",
        refund_fen=max(agreed_refund_fen, 0),
        new_plan_code=new_plan,
        reason=f"the tariff was not explained when the number was sold ({finding}): as agreed, {agreed}",
    )


def plan_change_words(new_plan_code: str, changed_now: bool) -> str:
    """The plan part of the resolution: moved now, or already on the plan (another case moved it)."""
    return f"moved to {new_plan_code}" if changed_now else f"already on {new_plan_code} (no change needed)"


def refund_ending(adjustment: Adjustment) -> Ending | None:
    """How the agreed refund ends the case: None when it was applied and the remedy goes on (a plan change)."""
    amount = format_yuan(adjustment.amount_fen)
    if adjustment.status == "applied":
        return None
    if adjustment.status == "already_remedied":
        return Ending(outcome="agent_remedy_already_applied",
                      summary=f"The plan difference of {amount} was {already_remedied_summary(adjustment)}.")
    return Ending(outcome="agent_remedy_refused",
                  summary=f"The refund of {amount} was {adjustment.status}; the plan is unchanged.")


def sale_summary(plan_code: str, sales_channel: str, agent_code: str | None) -> str:
    """The evidence of the sale: the plan the number is on and who sold it."""
    return f"on plan {plan_code}, sold through {sales_channel}" + (f" {agent_code}" if agent_code else "")


def agent_summary(name: str, code: str, address: str, contact_phone: str) -> str:
    """The evidence of the agent store that sold the number (its public shop details)."""
    return f"sold by {name} ({code}), {address}, tel. {contact_phone}"


def sold_by_us_reason(sales_channel: str) -> str:
    """Why the tariff is explained without a partner: the number was not sold through an agent store."""
    return f"we sold the number ourselves ({sales_channel})"


def joint_verification_reason(agent_name: str) -> str:
    """Why the sale is verified with the agent store, never by sending the customer there (the seed's lesson)."""
    return f"the number came from {agent_name}: we check it together with them rather than send the customer there"


def verification_failed_summary(agent_name: str, reason: str) -> str:
    """The resolution when the agent store cannot verify the sale: a person takes it up."""
    return f"{agent_name} could not verify the sale ({reason}); the store manager takes it up in person."


def remedy_applied_summary(done: list[str]) -> str:
    """The resolution of the agreed remedy: what was refunded and moved (or an apology)."""
    return "As agreed with the agent store: " + (" and ".join(done) or "an apology") + "."
