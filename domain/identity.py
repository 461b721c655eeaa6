"""Resident identity card numbers (GB 11643-1999): 17 digits and a check character."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator

from domain.errors import InvalidIdNumber

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"


def parse_id_number(raw: object) -> str:
    """Return the ID number in canonical form (upper-case X), or raise InvalidIdNumber saying why."""
    if not isinstance(raw, str):
        raise InvalidIdNumber(f"an ID number must be text, not {type(raw).__name__}")
    value = raw.strip().upper()
    if len(value) != 18:
        raise InvalidIdNumber(f"a resident ID number has 18 characters, this one has {len(value)}")
    body, check = value[:17], value[17]
    if not (body.isascii() and body.isdigit()) or check not in "0123456789X":
        raise InvalidIdNumber("a resident ID number is 17 digits followed by a digit or X")
    expected = _CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    if check != expected:
        raise InvalidIdNumber("the ID number's check digit does not match: a character was mistyped")
    return value


def _check(value: object) -> str:
    try:
        return parse_id_number(value)
    except InvalidIdNumber as error:
        raise ValueError(str(error)) from None


IdNumber = Annotated[str, BeforeValidator(_check)]
"""A pydantic field type holding a validated resident ID number."""
