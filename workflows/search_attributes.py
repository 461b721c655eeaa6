"""Custom search attributes: what supervisors filter cases by in Temporal visibility.

No phone number is ever stored here in clear: `MsisdnToken` is a keyed hash of it.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

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
