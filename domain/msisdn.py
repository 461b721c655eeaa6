"""Mainland China mobile numbers (MSISDNs) and the carrier each number range belongs to."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator

from domain.errors import InvalidMsisdn


class Carrier(StrEnum):
    CHINA_MOBILE = "china_mobile"
    CHINA_UNICOM = "china_unicom"
    CHINA_TELECOM = "china_telecom"
    CHINA_BROADNET = "china_broadnet"


# Number ranges (the first three digits) as allocated by MIIT; 170/171 virtual ranges are shared
# between carriers and left out on purpose, since the prefix alone cannot say whose they are.
_CARRIER_BY_PREFIX: dict[str, Carrier] = {
    **dict.fromkeys(
        ["134", "135", "136", "137", "138", "139", "147", "148", "150", "151", "152", "157", "158",
         "159", "172", "178", "182", "183", "184", "187", "188", "195", "197", "198"],
        Carrier.CHINA_MOBILE,
    ),
    **dict.fromkeys(
        ["130", "131", "132", "145", "146", "155", "156", "166", "167", "175", "176", "185", "186", "196"],
        Carrier.CHINA_UNICOM,
    ),
    **dict.fromkeys(
        ["133", "149", "153", "173", "174", "177", "180", "181", "189", "190", "191", "193", "199"],
        Carrier.CHINA_TELECOM,
    ),
    "192": Carrier.CHINA_BROADNET,
}


# How people write a number: full-width digits, plus and hyphen from a Chinese input method, spaces
# (ASCII or the ideographic one) and hyphens between groups. Each is read as what it stands for.
_FULL_WIDTH = str.maketrans({**{chr(0xFF10 + d): str(d) for d in range(10)}, "\uff0b": "+"})
_SEPARATORS = str.maketrans(dict.fromkeys(" \t\u3000-\uff0d\u2010\u2011", None))
_COUNTRY_PREFIXES = ("+86", "0086")
HOW_TO_WRITE = "write the 11 digits, e.g. 13905710001 (a +86 or 0086 prefix, spaces and hyphens are fine)"


def normalise_msisdn(raw: str) -> str:
    """The number as typed, with full-width characters, separators and the +86/0086 prefix taken off.

    Nothing else is changed: a letter, a foreign digit or another country code stays, for
    `parse_msisdn` to refuse, since a number that is silently "repaired" may be someone else's.
    """
    compact = raw.translate(_FULL_WIDTH).translate(_SEPARATORS)
    for prefix in _COUNTRY_PREFIXES:
        if compact.startswith(prefix):
            return compact.removeprefix(prefix)
    return compact


def parse_msisdn(raw: object) -> str:
    """Return the 11 ASCII digits of a mainland mobile number, or raise InvalidMsisdn saying why.

    Accepted as people write them: `+86 136 6677 8765`, `0086-13666778765`, full-width `１３６６６７７８７６５`.
    Every refusal is one line saying what is wrong and how to write the number; it never repeats the
    number itself (error messages end up in logs).
    """
    if not isinstance(raw, str):
        raise InvalidMsisdn(f"a phone number must be text, not {type(raw).__name__}")
    compact = normalise_msisdn(raw)
    if not compact:
        raise InvalidMsisdn(f"the phone number is empty: {HOW_TO_WRITE}")
    if compact.startswith("+") or (compact.startswith("00") and compact.isascii() and compact.isdigit()):
        raise InvalidMsisdn(
            "only mainland China numbers are served (country code +86 or 0086); "
            "this one has another country code or a misplaced +"
        )
    if not (compact.isascii() and compact.isdigit()):
        others = sorted({char for char in compact if not (char.isascii() and char.isdigit())})
        shown = " ".join(repr(char) for char in others[:5]) + (" ..." if len(others) > 5 else "")
        raise InvalidMsisdn(f"the phone number may not contain {shown}: {HOW_TO_WRITE}")
    if len(compact) != 11:
        raise InvalidMsisdn(f"a mainland mobile number has 11 digits, this one has {len(compact)}: {HOW_TO_WRITE}")
    if compact[:3] not in _CARRIER_BY_PREFIX:
        raise InvalidMsisdn(f"{compact[:3]} is not a mainland mobile number range (they start 13x-19x)")
    return compact


def carrier_of(msisdn: str) -> Carrier:
    """The carrier that owns the number range of a valid MSISDN."""
    return _CARRIER_BY_PREFIX[parse_msisdn(msisdn)[:3]]


def _check(value: object) -> str:
    try:
        return parse_msisdn(value)
    except InvalidMsisdn as error:
        # pydantic reports ValueError messages as the field's error; keep ours verbatim.
        raise ValueError(str(error)) from None


Msisdn = Annotated[str, BeforeValidator(_check)]
"""A pydantic field type holding a validated 11-digit mainland mobile number."""
