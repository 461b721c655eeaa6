"""What an audit bundle shows to whom: personal data in clear only for a token with the `pii:read` scope.

Everyone else gets the bundle with the personal fields of every event masked (numbers keep their ends,
names their first character), phone and ID numbers in free text scrubbed, and the archived Temporal
histories withheld (their payloads hold the intake). The hash chain is still reported as verified on the
server; re-computing the event hashes needs the unmasked events, so an auditor who must re-check the
chain themselves needs the scope.
"""

from __future__ import annotations

from typing import Any

from domain.masking import mask_id_number, mask_msisdn, scrub

PII_READ = "pii:read"
MASKED_NAME_SUFFIX = "**"
WITHHELD_HISTORY = "withheld: a Temporal history holds personal data; export with a token that has the pii:read scope"

# Fields of the events that name or identify the customer.
_NUMBER_FIELDS = ("msisdn", "partner_msisdn")
_ID_FIELDS = ("id_number",)
_NAME_FIELDS = ("customer_name",)


def mask_name(name: str) -> str:
    """The name with all but its first character masked, for readers without PII access."""
    return (name[:1] + MASKED_NAME_SUFFIX) if name else name


def mask_value(key: str, value: Any) -> Any:
    """One field of an event as a reader without the scope sees it (nested values walked)."""
    if isinstance(value, dict):
        return {k: mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(key, item) for item in value]
    if not isinstance(value, str):
        return value
    if key in _NUMBER_FIELDS:
        return mask_msisdn(value)
    if key in _ID_FIELDS:
        return mask_id_number(value)
    if key in _NAME_FIELDS:
        return mask_name(value)
    return scrub(value)


def masked_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle without personal data in clear: events masked, Temporal histories withheld."""
    events = [{**row, "event": mask_value("event", row["event"])} for row in bundle["events"]]
    runs = [{**run, "history": WITHHELD_HISTORY} for run in bundle["temporal_runs"]]
    return {**bundle, "personal_data": "masked", "events": events, "temporal_runs": runs}
