"""Who may approve which adjustment, and who may give the customer's answer.

Pure rules, enforced in the workflow's update validators.
"""

from __future__ import annotations

from domain.actors import APPROVER_ROLES, ON_BEHALF_OF_CUSTOMER, RELAY_ROLES, Actor, Role, normalise_actor_id
from domain.errors import ApprovalRefused, InvalidCommand
from domain.events import AdjustmentKind
from domain.state import ComplaintState

# Money given back twice over, or a debt forgiven, always needs a second pair of eyes,
# whatever the amount: the seed's double refund is promised "after approval".
ALWAYS_APPROVED_KINDS: frozenset[str] = frozenset({"double_refund", "arrears_waiver"})


def needs_approval(kind: AdjustmentKind, amount_fen: int, limit_fen: int) -> bool:
    """Whether an adjustment waits for a supervisor before it is applied."""
    return kind in ALWAYS_APPROVED_KINDS or amount_fen > limit_fen


def check_approver(state: ComplaintState, adjustment_id: str, approver: Actor) -> None:
    """Raise ApprovalRefused unless `approver` may decide on this adjustment now."""
    adjustment = state.adjustments.get(adjustment_id)
    if adjustment is None:
        raise ApprovalRefused(f"case {state.complaint_id} has no adjustment {adjustment_id!r}")
    if not adjustment.needs_approval or adjustment.status != "proposed":
        raise ApprovalRefused(f"adjustment {adjustment_id} is not waiting for approval (it is {adjustment.status})")
    if approver.role not in APPROVER_ROLES:
        roles = ", ".join(sorted(role.value for role in APPROVER_ROLES))
        raise ApprovalRefused(f"{approver.id} is {approver.role.value}; approvals need one of: {roles}")
    if normalise_actor_id(approver.id) == normalise_actor_id(state.filed_by.id):
        raise ApprovalRefused(f"{approver.id} filed case {state.complaint_id} and may not approve its adjustments")


def check_answerer(actor: Actor, on_behalf_of: str | None) -> None:
    """Raise InvalidCommand unless `actor` may give the customer's answer.

    Answering is the customer's act. Staff who spoke with the customer may relay it, but only saying so
    (`on_behalf_of`), so the timeline never shows an agent's answer as the customer's own.
    """
    if actor.role is Role.CUSTOMER:
        if on_behalf_of is not None:
            raise InvalidCommand("the customer answers for themselves: on_behalf_of is for staff relaying an answer")
        return
    if actor.role not in RELAY_ROLES:
        raise InvalidCommand(f"a {actor.role.value} cannot answer for the customer")
    if on_behalf_of != ON_BEHALF_OF_CUSTOMER:
        raise InvalidCommand(
            f"{actor.id} is {actor.role.value}, not the customer: relay the customer's answer "
            f"on_behalf_of={ON_BEHALF_OF_CUSTOMER!r} (starter: answer --on-behalf)"
        )
