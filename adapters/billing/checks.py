"""Input checks of the PostgreSQL billing adapter: a bad argument is an InvalidBillingRequest, never SQL."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, NamedTuple

from domain.billing_records import Channel
from domain.errors import InvalidMsisdn
from domain.msisdn import parse_msisdn
from ports.billing_errors import InvalidBillingRequest
from ports.billing_requests import CODE as _CODE
from ports.billing_requests import check_idempotency_key

CUSTOMER_STATUSES: frozenset[str] = frozenset({"active", "suspended", "cancelled"})
_CHANNELS: frozenset[str] = frozenset({"billing", "terminal", "web"})
SENDER = re.compile(r"^[0-9]{3,20}$")


def _msisdn(value: object) -> str:
    try:
        return parse_msisdn(value)
    except InvalidMsisdn as error:
        raise InvalidBillingRequest(str(error)) from None


def _key(value: object) -> str:
    try:
        return check_idempotency_key(value)  # type: ignore[arg-type]
    except ValueError as error:
        raise InvalidBillingRequest(str(error)) from None


def _code(value: object, what: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidBillingRequest(f"{what} {value!r} is not a code (2-32 capital letters, digits and '-')")
    return value


def _channel(value: object) -> Channel:
    if value not in _CHANNELS:
        raise InvalidBillingRequest(f"channel must be one of billing, terminal, web; got {value!r}")
    return value  # type: ignore[return-value]


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidBillingRequest(f"{what} must be a timezone-aware datetime")
    return value


def _range(since: object, until: object) -> tuple[datetime, datetime]:
    start, end = _aware(since, "since"), _aware(until, "until")
    if start > end:
        raise InvalidBillingRequest("since is after until")
    return start, end


def _dates(first: object, last: object) -> tuple[date, date]:
    for value, what in ((first, "period_start"), (last, "period_end")):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidBillingRequest(f"{what} must be a date")
    assert isinstance(first, date) and isinstance(last, date)
    if first > last:
        raise InvalidBillingRequest("period_start is after period_end")
    return first, last


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > limit:
        raise InvalidBillingRequest(f"{what} must be readable text of at most {limit} characters")
    return value


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _same_request(stored: str, request: dict[str, Any]) -> bool:
    return bool(json.loads(stored) == json.loads(_json(request)))


class _Outcome(NamedTuple):
    effective: bool
    reference: str | None
    details: dict[str, Any]


