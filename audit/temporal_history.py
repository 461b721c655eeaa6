"""Reading archived Temporal histories: one line per history event, and the domain events a run saved.

The archive holds WorkflowHistory.to_json() documents; they are turned back into the protobuf
events here, so every field has its proper type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

from activities.billing import BillingActivities
from activities.cases import CaseLookupActivities
from activities.partners import PartnerActivities
from activities.pending import takes_pending
from audit.archive_store import ArchivedRun
from codec.aes_gcm import KeyRing, decrypt_payload, is_encrypted
from domain.clock import SHANGHAI, format_local
from domain.masking import scrub

# The activities that write a case's domain events to the event store; their completed inputs are a
# second record of every event, kept by Temporal and archived with the run. append_events takes them as its
# input, save_and_notify inside its input, and a business step as its last argument (activities.pending).
APPEND_EVENTS_ACTIVITY = "append_events"
SAVE_AND_NOTIFY_ACTIVITY = "save_and_notify"
STEPS_CARRYING_EVENTS = frozenset(
    name
    for activities in (BillingActivities, PartnerActivities, CaseLookupActivities)
    for name, method in vars(activities).items()
    if hasattr(method, "__temporal_activity_definition") and takes_pending(method)
)



def history_events(run: ArchivedRun) -> list[HistoryEvent]:
    """The run's archived history as protobuf events (the run must be loaded with its history)."""
    if run.history is None:
        raise ValueError(f"run {run.run_id} was loaded without its history")
    return list(WorkflowHistory.from_json(run.complaint_id, run.history).events)


def event_type_name(event: HistoryEvent) -> str:
    """'ActivityTaskScheduled' for EVENT_TYPE_ACTIVITY_TASK_SCHEDULED."""
    name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    return "".join(part.capitalize() for part in name.split("_"))


def _duration(seconds: float) -> str:
    """'23m59s' for 1439.98 seconds: whole units, largest first."""
    left = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    if left or not parts:
        parts.append(f"{left}s")
    return "".join(parts)


def event_detail(event: HistoryEvent, names: dict[int | str, str]) -> str:
    """A short, human detail of the event: what ran, what was asked, what failed.

    `names` maps scheduled event ids to activity names and update ids to update names (filled in
    as the history is read), so a completion names what completed. Payloads are not shown (they
    hold personal data); failure messages are masked.
    """
    kind = event.WhichOneof("attributes")
    if kind is None:
        return ""
    attrs: Any = getattr(event, kind)
    match kind:
        case "workflow_execution_started_event_attributes":
            detail = f"{attrs.workflow_type.name} on task queue {attrs.task_queue.name}"
            if attrs.continued_execution_run_id:
                detail += f", continued from run {attrs.continued_execution_run_id}"
            return detail
        case "activity_task_scheduled_event_attributes":
            return f"{attrs.activity_type.name} (activity {attrs.activity_id})"
        case "activity_task_started_event_attributes":
            name = names.get(attrs.scheduled_event_id, "?")
            return f"{name}, attempt {attrs.attempt}"
        case (
            "activity_task_completed_event_attributes"
            | "activity_task_timed_out_event_attributes"
            | "activity_task_canceled_event_attributes"
        ):
            return names.get(attrs.scheduled_event_id, "?")
        case "activity_task_failed_event_attributes":
            return f"{names.get(attrs.scheduled_event_id, '?')}: {scrub(attrs.failure.message)}"
        case "timer_started_event_attributes":
            return f"timer {attrs.timer_id} for {_duration(attrs.start_to_fire_timeout.ToTimedelta().total_seconds())}"
        case "timer_fired_event_attributes" | "timer_canceled_event_attributes":
            return f"timer {attrs.timer_id}"
        case "workflow_execution_signaled_event_attributes":
            return f"signal {attrs.signal_name}"
        case "workflow_execution_update_accepted_event_attributes":
            return f"update {attrs.accepted_request.input.name} ({attrs.accepted_request.meta.update_id})"
        case "workflow_execution_update_completed_event_attributes":
            result = "failed: " + scrub(attrs.outcome.failure.message) if attrs.outcome.HasField("failure") else "ok"
            return f"update {names.get(attrs.meta.update_id, '?')} ({attrs.meta.update_id}) {result}"
        case "workflow_execution_update_rejected_event_attributes":
            return f"update {attrs.rejected_request.input.name} rejected: {scrub(attrs.failure.message)}"
        case "upsert_workflow_search_attributes_event_attributes":
            return "set " + ", ".join(sorted(attrs.search_attributes.indexed_fields.keys()))
        case "start_child_workflow_execution_initiated_event_attributes":
            return f"{attrs.workflow_type.name} {attrs.workflow_id}"
        case (
            "child_workflow_execution_started_event_attributes"
            | "child_workflow_execution_completed_event_attributes"
            | "child_workflow_execution_failed_event_attributes"
        ):
            return attrs.workflow_execution.workflow_id
        case "workflow_task_failed_event_attributes":
            return scrub(attrs.failure.message)
        case "workflow_execution_failed_event_attributes":
            return scrub(attrs.failure.message)
        case "workflow_execution_terminated_event_attributes":
            return f"{scrub(attrs.reason)} (by {attrs.identity or 'unknown'})"
        case "workflow_execution_continued_as_new_event_attributes":
            return f"new run {attrs.new_execution_run_id}"
        case "workflow_execution_canceled_event_attributes" | "workflow_execution_cancel_requested_event_attributes":
            return scrub(getattr(attrs, "cause", "") or "")
        case "marker_recorded_event_attributes":
            return attrs.marker_name
    return ""


def render_run(run: ArchivedRun) -> str:
    """The archived run as a header and one line per history event, times in Asia/Shanghai."""
    header = (
        f"Run {run.run_id}  {run.workflow_type}  {run.status}  "
        f"started {format_local(run.started_at)}  closed {format_local(run.closed_at)}  "
        f"{run.history_length} history events  sha256 {run.history_sha256[:16]}…"
    )
    lines = [header]
    if run.continued_from_run_id:
        lines.append(f"  continued from run {run.continued_from_run_id}")
    names: dict[int | str, str] = {}
    for event in history_events(run):
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            names[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        elif kind == "workflow_execution_update_accepted_event_attributes":
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            names[request.meta.update_id] = request.input.name
        at = event.event_time.ToDatetime(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        detail = event_detail(event, names)
        lines.append(f"  {event.event_id:>5}  {at}  {event_type_name(event):<40}  {detail}".rstrip())
    return "\n".join(lines)


class EncryptedHistory(ValueError):
    """An archived history whose payloads are encrypted, read without the payload keys."""


def saved_domain_events(run: ArchivedRun, keys: KeyRing | None = None) -> Iterator[dict[str, Any]]:
    """The domain events this run wrote to the event store, as JSON dicts, in the order it saved them.

    Only appends whose activity completed count: an append still retrying when the run ended never reached
    the store. An event may come twice: a save sends again what a running step carries. Payloads are encrypted
    (codec.aes_gcm) in histories archived since the codec was turned on: they are decrypted with `keys`, and
    without them EncryptedHistory is raised rather than the run silently yielding nothing.
    """
    scheduled: dict[int, list[dict[str, Any]]] = {}
    for event in history_events(run):
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            attrs = event.activity_task_scheduled_event_attributes
            if events := _carried_events(run, attrs.activity_type.name, list(attrs.input.payloads), keys):
                scheduled[event.event_id] = events
        elif kind == "activity_task_completed_event_attributes":
            yield from scheduled.pop(event.activity_task_completed_event_attributes.scheduled_event_id, [])


def _carried_events(run: ArchivedRun, activity: str, payloads: list[Payload], keys: KeyRing | None) -> list[Any]:
    """The domain events (JSON) an activity's input carried to the event store; [] when it carried none."""
    if activity in (APPEND_EVENTS_ACTIVITY, SAVE_AND_NOTIFY_ACTIVITY) and payloads:
        carrier = _json(run, payloads[0], keys)
        if activity == SAVE_AND_NOTIFY_ACTIVITY and isinstance(carrier, dict):
            carrier = carrier.get("events")
    elif activity in STEPS_CARRYING_EVENTS and len(payloads) > 1:
        carrier = _json(run, payloads[-1], keys)
    else:
        return []
    return list(carrier.get("events", [])) if isinstance(carrier, dict) else []


def _json(run: ArchivedRun, payload: Payload, keys: KeyRing | None) -> Any:
    if is_encrypted(payload):
        if keys is None:
            raise EncryptedHistory(
                f"run {run.run_id}'s archived history is encrypted: reading it needs the payload keys (PAYLOAD_KEYS)"
            )
        payload = decrypt_payload(keys, payload)
    return json.loads(payload.data) if payload.metadata.get("encoding") == b"json/plain" else None
