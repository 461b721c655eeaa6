"""Who may act, through the running workflow: approvals by identity, answers by the customer or on their
behalf, and no command that assumes a privileged role (time-skipping server, real sandboxes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

import starter
from cli.timeline import describe, render_timeline
from client.api import CommandRefused
from domain import events as ev
from domain.actors import Actor, Role
from tests.conftest import TOKEN_KEY, engine
from tests.helpers import arrears_dispute_intake, forwarding_intake, reset_sandboxes, wait_for_question
from tests.identity import prepare_logins, signed
from tests.workflows.test_billing_playbooks import wait_for_approval
from tests.workflows.test_billing_playbooks import wait_for_question as wait_for_question_id
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT = Actor(id="agent-zhou", role=Role.AGENT)
FILING_SUPERVISOR = Actor(id="sup-li", role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def test_the_filer_cannot_approve_under_another_spelling(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = arrears_dispute_intake(FILING_SUPERVISOR)
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await wait_for_question_id(client, case.complaint_id, "settle-arrears")
        await client.answer(case.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        waiting = await wait_for_approval(client, case.complaint_id)
        (adjustment,) = waiting.state.adjustments.values()
        with pytest.raises(CommandRefused, match=r"sup-li filed case .* may not approve"):
            await client.decide(
                case.complaint_id, adjustment.adjustment_id, approve=True,
                credential=signed(Actor(id="SUP-LI", role=Role.SUPERVISOR)),
            )
        # A raw update, past the client API's models: the workflow normalises the token's subject itself.
        raw = {"adjustment_id": adjustment.adjustment_id, "approve": True, "reason": "",
               "token": _token_for_subject(" Sup-Li ")}
        with pytest.raises(WorkflowUpdateFailedError) as caught:
            await handle.execute_update("decide_adjustment", raw)
        assert "may not approve" in str(caught.value.cause)
        with pytest.raises(CommandRefused, match="agent-zhou is agent; approvals need one of"):
            await client.decide(case.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(AGENT))
        unchanged = await client.view(case.complaint_id)
        await handle.terminate("test over")

    assert unchanged.state.last_seq == waiting.state.last_seq
    assert unchanged.state.adjustments[adjustment.adjustment_id].status == "proposed"


async def test_an_agent_relays_the_customers_answer_only_on_their_behalf(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        asked = await wait_for_question(client, intake.complaint_id)
        with pytest.raises(CommandRefused, match="agent-zhou is agent, not the customer"):
            await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(AGENT))
        with pytest.raises(CommandRefused, match="answers for themselves"):
            await client.answer(
                intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER), on_behalf_of="customer"
            )
        unchanged = await client.view(intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(AGENT), on_behalf_of="customer")
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)

    assert unchanged.state.last_seq == asked.state.last_seq
    assert outcome.close_reason == "confirmed"
    [answered] = [e for e in view.timeline if isinstance(e, ev.CustomerAnswered)]
    assert answered.actor == AGENT and answered.on_behalf_of == "customer"
    assert describe(answered) == "agent-zhou relayed, on behalf of the customer, the answer 'yes'"
    assert "agent-zhou (agent, api)" in render_timeline([answered])


def test_approve_needs_a_login_and_takes_no_declared_role(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No Temporal runs for this test: the command must refuse before it contacts anything."""
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    for argv in (["approve", "CMP-1", "adj-1"], ["approve", "CMP-1", "adj-1", "--as", "sup-wang"]):
        assert starter.main(argv) == 4
        assert "not logged in" in capsys.readouterr().err
    with pytest.raises(SystemExit) as declared:
        starter.main(["approve", "CMP-1", "adj-1", "--role", "supervisor"])
    assert declared.value.code == 2 and "unrecognized arguments: --role" in capsys.readouterr().err


async def test_starter_answer_relays_on_behalf_and_refuses_an_agent_answering_as_the_customer(
    dev_env: WorkflowEnvironment, deps: Dependencies, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    intake = forwarding_intake()
    prepare_logins(tmp_path)
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    async with engine(dev_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
        monkeypatch.setenv("MSISDN_TOKEN_KEY", TOKEN_KEY)
        monkeypatch.setenv("COMPLAINTS_TASK_QUEUE", client.options.task_queue)
        capsys.readouterr()
        answer = ["answer", intake.complaint_id, "confirm-resolution", "yes"]
        refused = await asyncio.to_thread(starter.main, [*answer, "--as", "agent-li"])
        refused_err = capsys.readouterr().err
        relayed = await asyncio.to_thread(starter.main, [*answer, "--on-behalf", "--as", "Agent-Li"])
        relayed_out = capsys.readouterr().out
        await handle.result()
        view = await client.view(intake.complaint_id)

    assert refused == 1, refused_err
    assert "agent-li is agent, not the customer" in refused_err and "--on-behalf" in refused_err
    assert relayed == 0
    assert relayed_out == f"{intake.complaint_id}: answered 'confirm-resolution' with 'yes' on behalf of the " \
                          "customer, by agent-li\n"
    [answered] = [e for e in view.timeline if isinstance(e, ev.CustomerAnswered)]
    assert (answered.actor.id, answered.actor.role, answered.on_behalf_of) == ("agent-li", Role.AGENT, "customer")


def _token_for_subject(subject: str) -> str:
    """A token whose subject is spelled as given (Actor would normalise it before signing)."""
    from datetime import UTC, datetime, timedelta

    from auth.tokens import issue_token
    from tests.identity import TEST_AUDIENCE, TEST_ISSUER, TEST_SIGNING_KEY

    return issue_token(TEST_SIGNING_KEY, subject=subject, roles=[Role.SUPERVISOR], issuer=TEST_ISSUER,
                       audience=TEST_AUDIENCE, now=datetime.now(UTC), ttl=timedelta(days=3650))
