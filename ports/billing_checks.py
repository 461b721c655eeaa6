"""The billing port's argument checks, shared by its adapters.

A bad argument is an InvalidBillingRequest before anything is asked of the billing system.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from domain.billing_records import Channel
from domain.errors import InvalidMsisdn
from domain.msisdn import parse_msisdn
from ports.billing_errors import InvalidBillingRequest
from ports.billing_requests import CODE as _CODE
from ports.billing_requests import check_idempotency_key

CUSTOMER_STATUSES: frozenset[str] = frozenset({"active", "suspended", "cancelled"})
_CHANNELS: frozenset[str] = frozenset({"billing", "terminal", "web"})
SENDER = re.compile(r"^[0-9]{3,20}$")


def valid_msisdn(value: object) -> str:
    """The number, normalised; InvalidBillingRequest if it is not a mobile number."""
    try:
        return parse_msisdn(value)
    except InvalidMsisdn as error:
        raise InvalidBillingRequest(str(error)) from None


def valid_key(value: object) -> str:
    """The idempotency key; InvalidBillingRequest if it is not 1-200 printable ASCII characters."""
    try:
        return check_idempotency_key(value)  # type: ignore[arg-type]
    except ValueError as error:
        raise InvalidBillingRequest(str(error)) from None


def valid_code(value: object, what: str) -> str:
    """A plan, agent or SP code; InvalidBillingRequest naming `what` if it is not one."""
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidBillingRequest(f"{what} {value!r} is not a code (2-32 capital letters, digits and '-')")
    return value


def valid_channel(value: object) -> Channel:
    """One of billing, terminal, web; InvalidBillingRequest otherwise."""
    if value not in _CHANNELS:
        raise InvalidBillingRequest(f"channel must be one of billing, terminal, web; got {value!r}")
    return value  # type: ignore[return-value]


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidBillingRequest(f"{what} must be a timezone-aware datetime")
    return value


def valid_range(since: object, until: object) -> tuple[datetime, datetime]:
    """A [since, until) of aware datetimes in order; InvalidBillingRequest otherwise."""
    start, end = _aware(since, "since"), _aware(until, "until")
    if start > end:
        raise InvalidBillingRequest("since is after until")
    return start, end


def valid_dates(first: object, last: object) -> tuple[date, date]:
    """A first and last date in order; InvalidBillingRequest otherwise."""
    for value, what in ((first, "period_start"), (last, "period_end")):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidBillingRequest(f"{what} must be a date")
    assert isinstance(first, date) and isinstance(last, date)
    if first > last:
        raise InvalidBillingRequest("period_start is after period_end")
    return first, last


def valid_text(value: object, what: str, limit: int) -> str:
    """Readable text of at most `limit` characters; InvalidBillingRequest naming `what` otherwise."""
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > limit:
        raise InvalidBillingRequest(f"{what} must be readable text of at most {limit} characters")
    return value


