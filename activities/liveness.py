"""Heartbeats that tell Temporal the worker running a step is alive, so a dead worker's step is retried soon.

Without them Temporal learns that a worker died mid-step (a SIGKILL, a lost machine) only when the step's
start-to-close timeout runs out: 30 s for the engine's steps, long for a partner cancel the customer expects
within 30 minutes. Workflows schedule their steps with `heartbeat_timeout=WORKER_LIVENESS`, and the worker's
interceptor (`Heartbeats`) beats for each such step while it runs, a few times per timeout. A step that is alive
but slow (a partner answering late) keeps beating and runs to its own timeout; one whose worker is gone stops
beating, and Temporal retries it after WORKER_LIVENESS. A step finishing within a quarter of the timeout, as
almost all do, sends no heartbeat at all.

Activities that beat for themselves to show progress (the archiver's pages) opt out with `beats_its_own_heart`:
a beat from here would also keep a hung step looking alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

WORKER_LIVENESS = timedelta(seconds=10)
BEATS_PER_TIMEOUT = 4

F = TypeVar("F", bound=Callable[..., Any])


def beats_its_own_heart(fn: F) -> F:
    """Mark an activity that heartbeats to show its own progress: the interceptor leaves it alone."""
    fn._beats_its_own_heart = True  # type: ignore[attr-defined]
    return fn


class Heartbeats(Interceptor):
    """Registered on the engine's worker (worker.build_worker)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Beat for each step scheduled with a heartbeat timeout while it runs."""
        return _Beating(next)


class _Beating(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        if not timeout or getattr(input.fn, "_beats_its_own_heart", False):
            return await self.next.execute_activity(input)
        # Created inside the activity's context, so its heartbeats are the activity's.
        beating = asyncio.create_task(_beat(timeout.total_seconds() / BEATS_PER_TIMEOUT))
        try:
            return await self.next.execute_activity(input)
        finally:
            beating.cancel()


async def _beat(every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        activity.heartbeat()
