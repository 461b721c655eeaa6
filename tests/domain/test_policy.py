"""The server's policy as data: what a case gets from it, and how a case keeps it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain import events as ev
from domain.cases import Category, Priority
from domain.policy import LEGACY_POLICY, Policy, content_version, settings_policy
from domain.sla import policy_for
from domain.state import fold
from tests.domain.factories import Stream


def test_a_case_gets_the_tables_deadlines_unless_the_policy_overrides_its_category_and_priority() -> None:
    fast = policy_for(Category.SPAM_SMS, Priority.NORMAL).model_copy(update={"resolve_within": timedelta(hours=1)})
    policy = Policy(version="v7", approval_limit_fen=2000, sla_overrides={Category.SPAM_SMS: {Priority.NORMAL: fast}})

    spam = policy.for_case(Category.SPAM_SMS, Priority.NORMAL)
    assert (spam.version, spam.approval_limit_fen, spam.sla) == ("v7", 2000, fast)
    # Urgent spam and every other category keep domain.sla's table.
    assert policy.for_case(Category.SPAM_SMS, Priority.URGENT).sla == policy_for(Category.SPAM_SMS, Priority.URGENT)
    assert policy.for_case(Category.BILLING_SPIKE, Priority.HIGH).sla == policy_for(
        Category.BILLING_SPIKE, Priority.HIGH
    )


def test_a_policy_names_its_version_and_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValidationError):
        Policy(version="")
    with pytest.raises(ValidationError):
        Policy.model_validate({"version": "v1", "approval_limit": 100})  # a misspelt rule is not ignored
    with pytest.raises(ValidationError):
        Policy(version="v1", warn_percent=100)


def test_a_settings_policy_version_changes_exactly_when_a_value_does() -> None:
    assert settings_policy(5000, 80, 7).version == settings_policy(5000, 80, 7).version == content_version()
    versions = {settings_policy(*values).version for values in [(5000, 80, 7), (5001, 80, 7), (5000, 75, 7),
                                                                 (5000, 80, 8)]}
    assert len(versions) == 4


def test_the_state_keeps_the_policy_of_the_first_event_through_reopening() -> None:
    s = Stream()
    recorded = Policy(version="v1", approval_limit_fen=100).for_case(Category.FORWARDING_CANCEL, Priority.NORMAL)
    filed = s.filed(policy=recorded)
    state = fold([filed, s.next(ev.ComplaintClosed, reason="confirmed"), s.next(ev.ComplaintReopened, reason="x")])
    assert state is not None and state.policy == recorded and state.rules == recorded


def test_a_case_filed_before_policies_had_versions_runs_under_the_legacy_defaults() -> None:
    state = fold([Stream().filed()])
    assert state is not None and state.policy is None
    assert state.rules == LEGACY_POLICY.for_case(state.category, state.priority)
    assert (state.rules.approval_limit_fen, state.rules.warn_percent, state.rules.reopen_window_days) == (5000, 80, 7)
