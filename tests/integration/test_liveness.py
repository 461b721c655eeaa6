"""A step slower than its heartbeat timeout runs to its end while its worker lives (activities/liveness.py).

On the real dev server, in real time: a 3 s step scheduled with a 1 s heartbeat timeout and no retry. The
worker's interceptor beats for it; without the interceptor, or for a step that says it beats for itself and
does not, Temporal times it out. (A dead worker's step retried after the timeout: tests/chaos.)
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, UnsandboxedWorkflowRunner, Worker

from activities.liveness import Heartbeats, beats_its_own_heart

STEP_SECONDS = 3.0


@activity.defn
async def slow_step() -> int:
    await asyncio.sleep(STEP_SECONDS)
    return activity.info().attempt


@activity.defn
@beats_its_own_heart
async def slow_step_that_forgets_to_beat() -> int:
    await asyncio.sleep(STEP_SECONDS)
    return activity.info().attempt


@workflow.defn
class OneSlowStep:
    @workflow.run
    async def run(self, step: str) -> int:
        result: int = await workflow.execute_activity(
            step,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return result


async def _run(env: WorkflowEnvironment, step: str, interceptors: list[Interceptor]) -> int:
    queue = f"liveness-{uuid.uuid4().hex}"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[OneSlowStep],
        activities=[slow_step, slow_step_that_forgets_to_beat],
        interceptors=interceptors,
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        return await env.client.execute_workflow(OneSlowStep.run, step, id=queue, task_queue=queue)


def _timed_out_on_heartbeat(error: WorkflowFailureError) -> bool:
    cause = error.cause
    return (
        isinstance(cause, ActivityError)
        and isinstance(cause.cause, TimeoutError)
        and cause.cause.type is TimeoutType.HEARTBEAT
    )


async def test_the_interceptor_keeps_a_slow_step_alive(dev_env: WorkflowEnvironment) -> None:
    assert await _run(dev_env, "slow_step", [Heartbeats()]) == 1


async def test_without_the_interceptor_the_same_step_times_out(dev_env: WorkflowEnvironment) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(dev_env, "slow_step", [])
    assert _timed_out_on_heartbeat(failed.value)


async def test_a_step_that_beats_for_itself_gets_no_beats(dev_env: WorkflowEnvironment) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(dev_env, "slow_step_that_forgets_to_beat", [Heartbeats()])
    assert _timed_out_on_heartbeat(failed.value)
