"""A hub listener's `query`: which TMF events it wants, in the TMF query form.

`eventType=TroubleTicketStatusChangeEvent,TroubleTicketResolvedEvent&event.troubleTicket.ticketType=spam_sms`
keeps the events whose every named field (a dotted path into the event) has one of the listed values. An
empty query keeps everything. A leading `?` is allowed, as TMF examples write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl


class BadHubQuery(ValueError):
    """A listener query that cannot be read."""


def parse_hub_query(query: str | None) -> dict[str, frozenset[str]]:
    """The conditions of `query`: field path to the values it may have."""
    text = (query or "").strip().removeprefix("?")
    if not text:
        return {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=50)
    except ValueError as error:
        raise BadHubQuery(f"query {query!r} is not of the form field=value&field=value1,value2") from error
    conditions: dict[str, set[str]] = {}
    for field, values in pairs:
        if not field or any(not part for part in field.split(".")):
            raise BadHubQuery(f"query {query!r} names an empty field")
        wanted = {value for value in values.split(",") if value}
        if not wanted:
            raise BadHubQuery(f"query {query!r} gives {field} no value")
        # The same field twice narrows it: both conditions must hold.
        conditions[field] = conditions[field] & wanted if field in conditions else wanted
    return {field: frozenset(values) for field, values in conditions.items()}


def _value_at(body: Mapping[str, Any], path: str) -> Any:
    current: Any = body
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current


def matches(conditions: Mapping[str, frozenset[str]], body: Mapping[str, Any]) -> bool:
    """Whether the event `body` meets every condition."""
    for path, wanted in conditions.items():
        value = _value_at(body, path)
        if value is None or isinstance(value, (Mapping, list)) or str(value) not in wanted:
            return False
    return True
