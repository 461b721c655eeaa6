"""Forgery is refused inside the workflow: updates sent straight through Temporal (the Python client and the
`temporal` CLI, no starter.py, no ComplaintClient) with a made-up supervisor and no token, an expired token,
or a token signed by another key are each refused by the validator with a clear reason, and the case is
unchanged. Temporal's own request records name the acting user (dev server, real sandboxes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from auth.tokens import SigningKey
from client.api import ClientOptions, ComplaintClient, connect_temporal
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category
from domain.intake import ComplaintIntake
from runtime.binaries import temporal_cli_path
from stories.arrears_dispute import ARREARS_CUSTOMER
from tests.conftest import TEST_PAYLOAD_KEYS, TOKEN_KEY, engine
from tests.helpers import reset_sandboxes
from tests.identity import TEST_SIGNING_KEY, signed
from tests.workflows.test_billing_playbooks import wait_for_approval
from tests.workflows.test_billing_playbooks import wait_for_question as wait_for_question_id
from worker import Dependencies
from workflows.complaint import ComplaintWorkflow
from workflows.messages import ApprovalDecision

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
FILER = Actor(id="agent-li", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)


async def test_forged_approvals_are_refused_and_temporal_records_the_real_approver(
    dev_env: WorkflowEnvironment, deps: Dependencies, partner_url: str, pool: asyncpg.Pool
) -> None:
    await reset_sandboxes(partner_url, pool)
    intake = ComplaintIntake(
        complaint_id=f"forged-{uuid.uuid4().hex[:10]}",
        category=Category.ARREARS_DISPUTE,
        msisdn=ARREARS_CUSTOMER.msisdn,
        customer_name=ARREARS_CUSTOMER.name,
        description="号码是女儿用的",
        filed_by=FILER,
    )
    async with engine(dev_env, deps) as client:
        await client.file(intake)
        await wait_for_question_id(client, intake.complaint_id, "settle-arrears")
        await client.answer(intake.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        before = await wait_for_approval(client, intake.complaint_id)
        (adjustment,) = before.state.adjustments.values()
        handle = dev_env.client.get_workflow_handle(intake.complaint_id)

        now = datetime.now(UTC)
        stranger = SigningKey.generate("stranger-key")
        same_kid_other_key = SigningKey(kid=TEST_SIGNING_KEY.kid, private_key=stranger.private_key)
        forgeries: list[tuple[object, str]] = [
            # The raw update: an actor declared in the input, no token at all.
            ({"adjustment_id": adjustment.adjustment_id, "approve": True, "reason": "",
              "actor": {"id": "totally-made-up-boss", "role": "supervisor", "channel": "api"}}, "no token"),
            (ApprovalDecision(adjustment_id=adjustment.adjustment_id, approve=True,
                              token=signed(SUPERVISOR, now=now - timedelta(hours=2), ttl=timedelta(hours=1))),
             "expired"),
            (ApprovalDecision(adjustment_id=adjustment.adjustment_id, approve=True,
                              token=signed(SUPERVISOR, key=stranger)), "does not trust (kid 'stranger-key')"),
            (ApprovalDecision(adjustment_id=adjustment.adjustment_id, approve=True,
                              token=signed(SUPERVISOR, key=same_kid_other_key)), "signature does not verify"),
        ]
        for forged, reason in forgeries:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(ComplaintWorkflow.decide_adjustment, forged)  # type: ignore[arg-type]
            assert "the actor is not proven" in str(refused.value.cause)
            assert reason in str(refused.value.cause), refused.value.cause

        # The `temporal` CLI, as in the issue: the engine "approving" its own refund.
        raw = json.dumps({"adjustment_id": adjustment.adjustment_id, "approve": True, "reason": "",
                          "actor": {"id": "engine", "role": "supervisor", "channel": "engine"}})
        cli = await asyncio.create_subprocess_exec(
            str(temporal_cli_path()), "workflow", "update", "execute",
            "--address", dev_env.client.service_client.config.target_host,
            "-w", intake.complaint_id, "--name", "decide_adjustment", "--input", raw,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        said = (await cli.communicate())[0].decode()
        assert cli.returncode != 0 and "no token" in said, said

        unchanged = await client.view(intake.complaint_id)
        assert unchanged.timeline == before.timeline and unchanged.state == before.state
        ledger = "SELECT count(*) FROM boss.adjustment_ledger WHERE complaint_id = $1"
        assert await pool.fetchval(ledger, intake.complaint_id) == 0

        # The control: the real supervisor, on a connection whose Temporal identity names them.
        token = signed(SUPERVISOR)
        own = await connect_temporal(
            dev_env.client.service_client.config.target_host, keys=TEST_PAYLOAD_KEYS, credential=token
        )
        assert own.identity.startswith("sup-wang (supervisor) ")
        supervisor = ComplaintClient(own, options=ClientOptions(task_queue=client.options.task_queue),
                                     token_key=TOKEN_KEY, credential=token)
        assert await supervisor.decide(intake.complaint_id, adjustment.adjustment_id, approve=True) == "approved"
        after = await client.view(intake.complaint_id)
        [approved] = [e for e in after.timeline if isinstance(e, ev.AdjustmentApproved)]
        assert (approved.actor.id, approved.actor.role) == ("sup-wang", Role.SUPERVISOR)

        history = await handle.fetch_history()
        accepted_type = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        accepted = [e for e in history.events if e.event_type == accepted_type]
        identities = [e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.identity
                      for e in accepted]
        # Refused updates leave no trace; the accepted ones name who sent them: the customer's answer came
        # through the test's engine client, the approval through the supervisor's own connection.
        assert identities[-1] == own.identity, identities
        await handle.terminate("test over")
