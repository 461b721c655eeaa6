"""Money as an integer number of fen (1 yuan = 100 fen); floats never touch an amount."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from domain.errors import DomainError

Fen = Annotated[int, Field(ge=0, le=100_000_000_00, strict=True)]
"""A non-negative amount in fen, at most 100 million yuan: larger is a typo, not a complaint."""


# Plain ASCII digits with at most two decimals: no exponents, no '_' separators, no full-width digits,
# which Decimal() would all accept but no person means when typing an amount at the counter.
_YUAN_TEXT = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")


def yuan(amount: str | int | Decimal) -> int:
    """Fen from a yuan amount written as text or Decimal ("58.20" -> 5820); refuses sub-fen precision."""
    if isinstance(amount, float):
        raise DomainError("amounts are never floats: write them as text, e.g. '58.20'")
    if isinstance(amount, bool) or not isinstance(amount, (str, int, Decimal)):
        raise DomainError(f"{amount!r} is not an amount of yuan: write digits, e.g. '58.20'")
    if isinstance(amount, str):
        text = amount.strip()
        if not _YUAN_TEXT.fullmatch(text):
            if re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", text):
                raise DomainError(f"{amount!r} has more precision than one fen")
            raise DomainError(f"{amount!r} is not an amount of yuan: write digits, e.g. '58.20'")
        value = Decimal(text)
    else:
        value = Decimal(amount)
        if not value.is_finite() or value.adjusted() > 12:
            raise DomainError(f"{amount!r} is not an amount of yuan")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise DomainError(f"{amount!r} has more precision than one fen")
    if fen < 0:
        raise DomainError(f"{amount!r} is negative: amounts are never below zero")
    return int(fen)


def format_yuan(fen: int) -> str:
    """'¥58.20' for 5820 fen."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole}.{cents:02d}"
