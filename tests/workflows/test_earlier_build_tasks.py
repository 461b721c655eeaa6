"""A step an earlier build scheduled (its input alone, no pending events) runs on this build's worker.

The previous build's workflow is played by a workflow of this test, on a task queue of its own, scheduling the
engine's `get_customer` the way that build did: one argument. The engine's real worker picks the task up.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.billing import MsisdnQuery
from domain.billing_records import Customer
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.identity import TEST_TRUSTED_KEYS
from worker import Dependencies, build_worker


@workflow.defn(sandboxed=False)
class AStepOfTheEarlierBuild:
    @workflow.run
    async def run(self, engine_queue: str, msisdn: str) -> Customer:
        return await workflow.execute_activity(
            "get_customer",
            MsisdnQuery(msisdn=msisdn),  # what the earlier build sent: the query, and nothing riding with it
            task_queue=engine_queue,
            result_type=Customer,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),  # a step that cannot read its input fails at once
        )


async def test_a_step_scheduled_with_its_input_alone_gets_it_typed(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    client = time_skipping_env.client
    engine_queue, earlier_queue = f"tq-{uuid.uuid4().hex}", f"earlier-{uuid.uuid4().hex}"
    engine = build_worker(client, deps, engine_queue, trusted_keys=TEST_TRUSTED_KEYS)
    earlier = Worker(client, task_queue=earlier_queue, workflows=[AStepOfTheEarlierBuild])
    async with engine, earlier:
        customer = await client.execute_workflow(
            AStepOfTheEarlierBuild.run,
            args=[engine_queue, FORWARDING_CUSTOMER.msisdn],
            id=f"earlier-{uuid.uuid4().hex[:8]}",
            task_queue=earlier_queue,
        )
    assert customer.msisdn == FORWARDING_CUSTOMER.msisdn
    assert customer.name == FORWARDING_CUSTOMER.name
