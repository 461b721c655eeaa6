"""The ending the playbooks that ask a partner share: the partner refused, so say so and resolve the case.

A refusal (unknown number, unknown partner, the partner's own error) is an answer, not a fault to retry:
the case records it and resolves with the category's words, which its domain playbook writes.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import events as ev
    from workflows.case import Case


def resolve_on_refusal(
    case: Case, *, partner: str, action: str, request_key: str, reason: str, outcome: str, summary: str
) -> None:
    """Record the partner's refusal of `action`, then resolve the case with `outcome` and `summary`."""
    case.record(ev.PartnerRequestFailed, partner=partner, action=action, request_key=request_key, reason=reason)
    case.record(ev.ComplaintResolved, outcome=outcome, summary=summary)
