"""Old shapes of events turned into the current ones as they are read: one small step per version.

Events are stored as they were written, for ever (the hash chain covers the stored text). When an event's
shape changes, its version goes up and a step here turns the previous version's JSON form into the new one.
`upcast` runs every step an event needs, in order; `domain.events.Event` calls it whenever an event is built
from its JSON form (the event store's read path, the read model's fold, Temporal payloads of old histories,
audit exports), so the fold and everything else only ever see the current shape.

A JSON form without a version is taken as current: only stored events carry theirs (every dump does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_STEPS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a step that turns `event_type` at `from_version` into `from_version + 1`."""

    def register(step: Upcaster) -> Upcaster:
        if (event_type, from_version) in _STEPS:
            raise ValueError(f"{event_type} v{from_version} already has an upcaster")
        _STEPS[(event_type, from_version)] = step
        return step

    return register


def upcast(data: Mapping[str, Any]) -> dict[str, Any]:
    """The event's JSON form in its current version (a copy; the stored form is never changed)."""
    current = dict(data)
    version = current.get("version")
    while isinstance(version, int) and (step := _STEPS.get((str(current.get("type")), version))) is not None:
        current = step(dict(current))
        version += 1
        current["version"] = version
    return current


def current_version(event_type: str) -> int:
    """The version `event_type` is written in today: one past its last registered step."""
    versions = [version for (kind, version) in _STEPS if kind == event_type]
    return max(versions) + 1 if versions else 1


# --- the steps ----------------------------------------------------------------------------------------


@upcaster("AdjustmentAlreadyRemedied", 1)
def _charge_key_split(data: dict[str, Any]) -> dict[str, Any]:
    """v2 names the remedied charge by its parts (record kind, record id) instead of one "kind:id" key.

    Readers used to split the key themselves; a record id may itself contain ':', so only the first one
    separates them (as Citation.key joins them).
    """
    charge = data.pop("charge", None)
    if not isinstance(charge, str) or ":" not in charge:
        raise ValueError(f"AdjustmentAlreadyRemedied v1 needs a 'kind:record_id' charge, not {charge!r}")
    data["charge_kind"], data["charge_record_id"] = charge.split(":", 1)
    return data
