"""Policy lives on the server: what a filer sends never changes a case's rules, and a case keeps the
policy version it was filed under (time-skipping server, real event store and sandboxes)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from cli.connect import complaint_client
from client.tokens import msisdn_token
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category, Priority, Status
from domain.clock import local_day
from domain.intake import ComplaintIntake, parse_intake
from domain.policy import Policy
from domain.sla import policy_for
from runtime.settings import Settings
from stories.tariff_dispute import TARIFF_CUSTOMER
from tests.conftest import TOKEN_KEY, engine
from tests.domain.factories import intake_data
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question, wait_until
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)

# The worker's policy in these tests: a strict limit, so the tariff story's 30-yuan refund needs approval.
STRICT = Policy(version="2026-12-strict", approval_limit_fen=1000, warn_percent=80, reopen_window_days=7)

# What a filer might try to send: a limit nobody reaches, a one-second deadline, a different window.
FILER_OPTIONS: dict[str, Any] = {
    "approval_limit_fen": 1_000_000_000,
    "warn_percent": 10,
    "reopen_window_days": 365,
    "task_queue": "ignored",
    "sla_overrides": {
        "tariff_dispute": {
            "acknowledge_within": "PT1S", "resolve_within": "PT1S", "remind_customer_after": "PT1S",
            "close_unconfirmed_after": "PT2S", "re_escalate_after": "PT1S",
        }
    },
}


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def tariff_intake() -> ComplaintIntake:
    return parse_intake(
        intake_data(
            complaint_id=f"TAR-{uuid.uuid4().hex[:10]}",
            category="tariff_dispute",
            msisdn=TARIFF_CUSTOMER.msisdn,
            customer_name=TARIFF_CUSTOMER.name,
            description="nobody told me the tariff",
            id_number=None,
            partner_msisdn=None,
        )
    )


def budgets(view: CaseView) -> dict[str, int]:
    return {e.clock: e.budget_seconds for e in view.timeline if isinstance(e, ev.SlaClockStarted)}


def assert_runs_under_strict(view: CaseView) -> None:
    filed = view.timeline[0]
    assert isinstance(filed, ev.ComplaintFiled)
    assert filed.policy == STRICT.for_case(Category.TARIFF_DISPUTE, Priority.NORMAL, local_day(filed.at))
    default = policy_for(Category.TARIFF_DISPUTE, Priority.NORMAL)
    assert budgets(view) == {
        "acknowledge": int(default.acknowledge_within.total_seconds()),
        "resolve": int(default.resolve_within.total_seconds()),
    }
    assert {e.warn_percent for e in view.timeline if isinstance(e, ev.SlaClockStarted)} == {80}
    [proposed] = [e for e in view.timeline if isinstance(e, ev.AdjustmentProposed)]
    assert proposed.amount_fen == 3000 and proposed.needs_approval  # 30 yuan > the worker's 10-yuan limit


def waiting_for_approval(view: CaseView) -> bool:
    return any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values())


async def test_a_filers_environment_does_not_change_the_rules(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's reproduction: a filer with APPROVAL_LIMIT_FEN=1000000000 files through the CLI's client."""
    async with engine(time_skipping_env, deps, policy=STRICT) as worker_side:
        settings = Settings.from_env(
            {
                "APPROVAL_LIMIT_FEN": "1000000000",
                "SLA_WARN_PERCENT": "10",
                "REOPEN_WINDOW_DAYS": "365",
                "COMPLAINTS_TASK_QUEUE": worker_side.options.task_queue,
                "MSISDN_TOKEN_KEY": TOKEN_KEY,
            }
        )
        monkeypatch.setattr("cli.connect.temporal", _fixed_client(time_skipping_env))
        filer = await complaint_client(settings)
        case = tariff_intake()
        handle = await filer.file(case, signed(case.filed_by))
        view = await wait_until(filer, case.complaint_id, waiting_for_approval, "an approval wait")
        await handle.terminate("test over")
    assert view.state.status is Status.AWAITING_APPROVAL
    assert_runs_under_strict(view)


def _fixed_client(env: WorkflowEnvironment) -> Any:
    async def temporal(settings: Settings, address: str | None = None, **_: Any) -> Any:
        return env.client

    return temporal


async def test_a_raw_start_with_extra_fields_does_not_change_the_rules(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """Past the client API: a raw Temporal start whose input carries the old `options` and more."""
    async with engine(time_skipping_env, deps, policy=STRICT) as client:
        case = tariff_intake()
        raw_input = {
            "intake": case.model_dump(mode="json"),
            "msisdn_token": msisdn_token(TOKEN_KEY, case.msisdn),
            "token": signed(case.filed_by),
            "options": FILER_OPTIONS,
            "policy": {"version": "mine", "approval_limit_fen": 1_000_000_000},
        }
        handle = await time_skipping_env.client.start_workflow(
            "ComplaintWorkflow", raw_input, id=case.complaint_id, task_queue=client.options.task_queue
        )
        view = await wait_until(client, case.complaint_id, waiting_for_approval, "an approval wait")
        await handle.terminate("test over")
    assert_runs_under_strict(view)


class MovingPolicy:
    """The deployment's policy file, as the worker sees it: a new version can be published any time."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def __call__(self) -> Policy:
        return self.policy


async def test_a_case_keeps_its_policy_version_after_the_deployment_publishes_a_new_one(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    base = policy_for(Category.FORWARDING_CANCEL, Priority.NORMAL)
    v1 = Policy(version="v1", warn_percent=80)
    v2 = Policy(
        version="v2",
        warn_percent=50,
        sla_overrides={
            Category.FORWARDING_CANCEL: {
                Priority.NORMAL: base.model_copy(update={"resolve_within": timedelta(minutes=20)})
            }
        },
    )
    moving = MovingPolicy(v1)
    async with engine(time_skipping_env, deps, policy=moving) as client:
        first = forwarding_intake()
        handle = await client.file(first)
        await wait_for_question(client, first.complaint_id)
        await client.answer(first.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        # Closed by the answer: waiting without time skipping keeps the test server's clock from running on,
        # once nothing is left to run, past the reopen window.
        with time_skipping_env.auto_time_skipping_disabled():
            await handle.result()

        moving.policy = v2  # the deployment publishes version 2
        second = forwarding_intake()
        handle2 = await client.file(second)
        second_view = await wait_for_question(client, second.complaint_id)
        await handle2.terminate("test over")

        # The first case, reopened under v2's reign, still runs under v1.
        reopened = await client.reopen(first.complaint_id, "calls go to the old number again", signed(CUSTOMER))
        view = await wait_until(client, first.complaint_id, lambda v: v.state.is_open, "reopened", closed_fails=False)
        await reopened.terminate("test over")

    assert second_view.state.policy is not None and second_view.state.policy.version == "v2"
    assert budgets(second_view)["resolve"] == 20 * 60
    assert view.state.policy is not None and view.state.policy.version == "v1"
    assert view.state.rules == v1.for_case(Category.FORWARDING_CANCEL, Priority.NORMAL, local_day(view.state.filed_at))
    starts = [e for e in view.timeline if isinstance(e, ev.SlaClockStarted) and e.clock == "resolve"]
    assert [(e.budget_seconds, e.warn_percent) for e in starts] == [(30 * 60, 80), (30 * 60, 80)]
    assert view.state.reopened == 1
