"""Events that ride with a step: a case's unsaved events, saved by the next activity its playbook runs anyway.

A business activity that takes `pending` appends those events first, then does its own work, so an event that
says what is about to happen (a partner request sent, an adjustment proposed) is durable before the side effect,
as a save of its own made it, without that save's activity and workflow task. The append is idempotent by seq:
a retried step, or a save that sent the same events again while the step ran, writes nothing twice.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from activities.event_store import AppendEventsInput, save_events
from ports.event_store import EventStore

# The optional last argument of such an activity: absent in runs recorded before events rode with steps.
Pending = AppendEventsInput | None


@functools.cache
def takes_pending(activity: Callable[..., Any]) -> bool:
    """Whether the activity saves a case's pending events before its work (its last parameter is `pending`).

    Asked on every activity a case calls, and of every activity an audit reads: its signature is looked at once.
    """
    return "pending" in inspect.signature(activity).parameters


class SavesPendingEvents:
    """For activity classes whose activities take a case's pending events (workflows.case.Case.call sends them)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def _save_pending(self, pending: Pending) -> None:
        if pending is not None and pending.events:
            await save_events(self._store, pending)
