"""Who may approve which adjustment: pure rules, enforced inside the workflow's update validator."""

from __future__ import annotations

from domain.actors import APPROVER_ROLES, Actor
from domain.errors import ApprovalRefused
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
    if approver.id == state.filed_by.id:
        raise ApprovalRefused(f"{approver.id} filed case {state.complaint_id} and may not approve its adjustments")
