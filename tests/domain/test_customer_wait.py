"""When a waiting case reminds the customer and closes unconfirmed: the case's SLA policy from the question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.cases import Category, Priority
from domain.customer_wait import customer_wait
from domain.sla import policy_for
from domain.state import Question

ASKED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def question(reminders: int = 0) -> Question:
    return Question(question_id="confirm-resolution", question="solved?", options=["yes", "no"], asked_at=ASKED,
                    reminders=reminders)


def test_forwarding_reminds_after_10_minutes_and_closes_after_2_hours() -> None:
    wait = customer_wait(question(), policy_for(Category.FORWARDING_CANCEL, Priority.NORMAL))
    assert wait.remind_at == ASKED + timedelta(minutes=10)
    assert wait.close_unconfirmed_at == ASKED + timedelta(hours=2)
    assert not wait.reminded


def test_other_categories_remind_after_a_day_and_close_after_three_whatever_the_priority() -> None:
    # Customer waits are the customer's time: priority does not shorten them.
    for priority in Priority:
        wait = customer_wait(question(reminders=1), policy_for(Category.BILLING_SPIKE, priority))
        assert wait.remind_at == ASKED + timedelta(hours=24)
        assert wait.close_unconfirmed_at == ASKED + timedelta(hours=72)
        assert wait.reminded
