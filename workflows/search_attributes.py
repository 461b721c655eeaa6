"""Custom search attributes: what supervisors filter cases by in Temporal visibility.

No phone number is ever stored here in clear: `MsisdnToken` is a keyed hash of it.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CATEGORY = SearchAttributeKey.for_keyword("ComplaintCategory")
STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
PRIORITY = SearchAttributeKey.for_keyword("ComplaintPriority")
ASSIGNEE = SearchAttributeKey.for_keyword("ComplaintAssignee")
SLA_DUE_AT = SearchAttributeKey.for_datetime("SlaDueAt")
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
MSISDN_TOKEN = SearchAttributeKey.for_keyword("MsisdnToken")

ALL: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    CATEGORY,
    STATUS,
    PRIORITY,
    ASSIGNEE,
    SLA_DUE_AT,
    ESCALATION_LEVEL,
    MSISDN_TOKEN,
)


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags registering ALL on `temporal server start-dev`."""
    type_names = {
        "KEYWORD": "Keyword",
        "DATETIME": "Datetime",
        "INT": "Int",
    }
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={type_names[key.indexed_value_type.name]}"]
    return flags


def at_filing(category: str, priority: str, token: str) -> TypedSearchAttributes:
    """What is known when a case is filed, set by the client with the workflow's start.

    The case is in visibility at once, and the workflow's first upsert carries only what its first save changed.
    """
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(CATEGORY, category),
        SearchAttributePair(PRIORITY, priority),
        SearchAttributePair(MSISDN_TOKEN, token),
        SearchAttributePair(ESCALATION_LEVEL, 0),
    ]
    return TypedSearchAttributes(pairs)


def published_at_start(attributes: TypedSearchAttributes) -> dict[str, Any]:
    """Every attribute's value as the run started: what it was given, None (unset) for the rest."""
    given = {pair.key.name: pair.value for pair in attributes}
    return {key.name: given.get(key.name) for key in ALL}
