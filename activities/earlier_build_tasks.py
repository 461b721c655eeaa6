"""Activity tasks a worker of an earlier build scheduled, run by this build with their arguments typed.

Business activities gained an optional last argument, the case's pending events (activities.pending). A run
started before that sends the step's input alone. The SDK decodes arguments by their types only when every
parameter is sent, so such a task's input would arrive as a plain dict, and the step would fail on it. This
interceptor gives that input its declared type and adds the missing `pending` (None: nothing rides), so a
rolling deploy needs no drained task queue.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.pending import takes_pending


class EarlierBuildTasks(Interceptor):
    """Registered on the engine's worker (worker.build_worker)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Type the lone input of a step scheduled without its pending events."""
        return _TypedLoneInput(next)


class _TypedLoneInput(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if len(input.args) == 1 and takes_pending(input.fn):
            typed = _first_argument_type(input.fn).validate_python(input.args[0])
            input = dataclasses.replace(input, args=[typed, None])
        return await self.next.execute_activity(input)


@functools.cache
def _first_argument_type(activity: Callable[..., Any]) -> TypeAdapter[Any]:
    """The declared type of the activity's input (its first parameter), ready to validate a decoded dict."""
    first = next(iter(inspect.signature(activity, eval_str=True).parameters.values()))
    return TypeAdapter(first.annotation)
