"""MSISDNs, ID numbers and money: the value objects every case is made of."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import DomainError, InvalidIdNumber, InvalidMsisdn
from domain.identity import parse_id_number
from domain.money import format_yuan, yuan
from domain.msisdn import Carrier, carrier_of, parse_msisdn


@pytest.mark.parametrize(
    ("number", "carrier"),
    [
        ("13666778765", Carrier.CHINA_MOBILE),
        ("13967341014", Carrier.CHINA_MOBILE),
        ("13067890001", Carrier.CHINA_UNICOM),
        ("18612345678", Carrier.CHINA_UNICOM),
        ("18912345678", Carrier.CHINA_TELECOM),
        ("19212345678", Carrier.CHINA_BROADNET),
    ],
)
def test_carrier_comes_from_the_number_range(number: str, carrier: Carrier) -> None:
    assert carrier_of(number) is carrier


def test_spaces_and_dashes_people_type_are_accepted() -> None:
    assert parse_msisdn(" 136-6677-8765 ") == "13666778765"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("1366677876", "has 10"),
        ("136667787651", "has 12"),
        ("١٣٦٦٦٧٧٨٧٦٥", "may not contain"),
        ("1366677876a", "may not contain 'a'"),
        ("", "empty"),
        ("12066778765", "120 is not a mainland mobile number range"),
    ],
)
def test_bad_numbers_say_what_is_wrong(raw: str, says: str) -> None:
    with pytest.raises(InvalidMsisdn, match=says):
        parse_msisdn(raw)


def test_id_number_check_digit_is_verified() -> None:
    assert parse_id_number("330106198001011235") == "330106198001011235"
    with pytest.raises(InvalidIdNumber, match="check digit"):
        parse_id_number("330106198001011234")
    with pytest.raises(InvalidIdNumber, match="18 characters"):
        parse_id_number("33010619800101123")


def test_lower_case_x_is_canonicalised() -> None:
    # 11010519491231002X is the standard's own example number.
    assert parse_id_number("11010519491231002x") == "11010519491231002X"


def test_yuan_to_fen_is_exact() -> None:
    assert yuan("58.20") == 5820
    assert yuan(Decimal("0.01")) == 1
    assert yuan(20) == 2000
    assert format_yuan(5820) == "¥58.20"
    assert format_yuan(-1000) == "-¥10.00"


@pytest.mark.parametrize("raw", ["-10", "0.001", "abc", "NaN", "Infinity"])
def test_bad_amounts_are_refused(raw: str) -> None:
    with pytest.raises(DomainError):
        yuan(raw)


def test_floats_are_refused() -> None:
    with pytest.raises(DomainError, match="never floats"):
        yuan(58.2)  # type: ignore[arg-type]
