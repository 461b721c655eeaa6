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


def parse_msisdn(raw: object) -> str:
    """Return the 11 ASCII digits of a mainland mobile number, or raise InvalidMsisdn saying why.

    Spaces and dashes that people type between groups are accepted; full-width digits, letters and
    other lengths are not, since a number that is silently "repaired" may be someone else's.
    """
    if not isinstance(raw, str):
        raise InvalidMsisdn(f"a phone number must be text, not {type(raw).__name__}")
    compact = raw.strip().replace(" ", "").replace("-", "")
    if not compact:
        raise InvalidMsisdn("the phone number is empty")
    if not (compact.isascii() and compact.isdigit()):
        raise InvalidMsisdn(f"the phone number may hold only the digits 0-9, got {len(compact)} other characters")
    if len(compact) != 11:
        raise InvalidMsisdn(f"a mainland mobile number has 11 digits, this one has {len(compact)}")
    if compact[:3] not in _CARRIER_BY_PREFIX:
        raise InvalidMsisdn(f"{compact[:3]} is not a mainland mobile number range")
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
