"""The tail every playbook that adjusts money shares: propose, settle, then resolve or record the refusal.

The adjustment goes through `workflows.money.adjust` (approval when the policy wants it, applied once, refused
when the charge was remedied before); the category's domain playbook says how the case ends for each outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import events as ev
    from domain.citations import Citation
    from domain.events import AdjustmentKind
    from domain.playbooks.common import Ending, refusal_reason
    from domain.state import Adjustment
    from workflows import money
    from workflows.case import Case

EndingFor = Callable[[Adjustment, str], Ending | None]
"""The category's words for how its case ends: (the settled adjustment, the approver's refusal reason) ->
the ending, or None when the playbook goes on after an applied adjustment."""


async def settle(
    case: Case,
    kind: AdjustmentKind,
    amount_fen: int,
    reason: str,
    *,
    citations: list[Citation],
    evidence_steps: list[str],
    ending: EndingFor,
    validity_until: date | None = None,
) -> Adjustment:
    """Propose and settle one adjustment, then resolve the case the way `ending` says (or go on, on None).

    A case withdrawn while the adjustment waited for approval is left as it is: nothing more is recorded.
    """
    adjustment = await money.adjust(case, kind, amount_fen, reason, validity_until=validity_until, citations=citations)
    if not case.current.is_open:
        return adjustment
    end = ending(adjustment, refusal_reason(case.timeline, adjustment.adjustment_id))
    if end is None:
        return adjustment
    if end.decision is not None:
        case.record(ev.DecisionRecorded, decision=end.decision, reason=end.decision_reason,
                    evidence_steps=evidence_steps)
    case.record(ev.ComplaintResolved, outcome=end.outcome, summary=end.summary)
    return adjustment
