"""Money as an integer number of fen (1 yuan = 100 fen); floats never touch an amount."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import Field

from domain.errors import DomainError

Fen = Annotated[int, Field(ge=0, le=100_000_000_00, strict=True)]
"""A non-negative amount in fen, at most 100 million yuan: larger is a typo, not a complaint."""


def yuan(amount: str | int | Decimal) -> int:
    """Fen from a yuan amount written as text or Decimal ("58.20" -> 5820); refuses sub-fen precision."""
    if isinstance(amount, float):
        raise DomainError("amounts are never floats: write them as text, e.g. '58.20'")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise DomainError(f"{amount!r} is not an amount of yuan") from None
    if not value.is_finite():
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
