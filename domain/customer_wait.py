"""When a case waiting on the customer reminds them, and when it closes if they stay silent.

The workflow waits `remind_customer_after` from the question, reminds once, then waits until
`close_unconfirmed_after` from the question before closing as unconfirmed (workflows/case.py,
`ask_customer`). The same two durations of the case's SLA policy give both moments here, so people
can be told them without asking the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.sla import SlaPolicy
from domain.state import Question


@dataclass(frozen=True)
class CustomerWait:
    """The two moments of a pending question; `reminded` once the reminder has gone out."""

    remind_at: datetime
    close_unconfirmed_at: datetime
    reminded: bool


def customer_wait(question: Question, policy: SlaPolicy) -> CustomerWait:
    """When the customer is reminded of `question` and when the case closes unconfirmed without an answer."""
    return CustomerWait(
        remind_at=question.asked_at + policy.remind_customer_after,
        close_unconfirmed_at=question.asked_at + policy.close_unconfirmed_after,
        reminded=question.reminders > 0,
    )
