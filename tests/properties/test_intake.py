"""Bad intake, drawn at random: every bad value is refused with InvalidIntake naming the field; free
text is kept exactly as typed; no error message repeats a phone or ID number."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.errors import InvalidIntake
from domain.intake import MAX_DESCRIPTION_CHARS, ComplaintIntake, parse_intake
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.domain.factories import intake_data
from tests.properties.strategies import (
    ARABIC_INDIC,
    FULL_WIDTH,
    free_text,
    id_numbers,
    junk,
    mobile_numbers,
    not_a_category,
    unicom_numbers,
)

SETTINGS = settings(max_examples=150, deadline=None)


def refused(data: dict[str, Any], field: str) -> InvalidIntake:
    with pytest.raises(InvalidIntake) as caught:
        parse_intake(data)
    assert field in str(caught.value), f"the error does not name {field!r}: {caught.value}"
    return caught.value


@SETTINGS
@given(msisdn=mobile_numbers(), partner=unicom_numbers(), id_number=id_numbers())
def test_well_formed_numbers_are_accepted_as_their_ascii_digits(
    msisdn: str, partner: str, id_number: str
) -> None:
    grouped = f"{msisdn[:3]} {msisdn[3:7]} {msisdn[7:]}"
    intake = parse_intake(intake_data(msisdn=grouped, partner_msisdn=partner, id_number=id_number.lower()))
    assert intake.msisdn == msisdn and intake.partner_msisdn == partner and intake.id_number == id_number


@SETTINGS
@given(msisdn=mobile_numbers())
def test_full_width_digits_are_read_as_their_ascii_digits(msisdn: str) -> None:
    assert parse_intake(intake_data(msisdn=msisdn.translate(FULL_WIDTH))).msisdn == msisdn


@SETTINGS
@given(msisdn=mobile_numbers())
def test_foreign_digits_are_refused_not_repaired(msisdn: str) -> None:
    error = refused(intake_data(msisdn=msisdn.translate(ARABIC_INDIC)), "msisdn")
    assert msisdn not in str(error)


@SETTINGS
@given(
    msisdn=st.one_of(
        st.text("0123456789", max_size=20).filter(lambda s: len(s) != 11),
        st.text(min_size=1, max_size=20).filter(lambda s: not s.replace(" ", "").replace("-", "").isdigit()),
        st.builds(
            lambda n, c, i: n[:i] + c + n[i:],
            mobile_numbers(),
            st.sampled_from("OolI.+/*#x"),
            st.integers(0, 11),
        ),
    )
)
@example("1390571000")  # ten digits
@example("139057100011")  # twelve
@example("12345678901")  # no such range
def test_wrong_lengths_and_non_digits_are_refused(msisdn: str) -> None:
    refused(intake_data(msisdn=msisdn), "msisdn")


@SETTINGS
@given(number=id_numbers(), position=st.integers(0, 16), digit=st.sampled_from("0123456789"))
def test_a_mistyped_id_number_is_refused_without_echoing_it(number: str, position: int, digit: str) -> None:
    mistyped = number[:position] + digit + number[position + 1 :]
    if mistyped == number:
        return
    error = refused(intake_data(id_number=mistyped), "id_number")
    assert mistyped not in str(error) and number not in str(error)


@SETTINGS
@given(category=not_a_category())
def test_an_unknown_category_is_refused(category: str) -> None:
    refused(intake_data(category=category), "category")


@SETTINGS
@given(
    field=st.sampled_from(
        ["msisdn", "customer_name", "description", "category", "id_number", "partner_msisdn", "complaint_id"]
    ),
    value=junk(),
)
def test_values_of_the_wrong_type_are_refused_not_crashed_on(field: str, value: Any) -> None:
    if value is None and field in ("id_number", "partner_msisdn"):
        return  # optional fields; forwarding_cancel's own rule then names them
    with pytest.raises(InvalidIntake):
        parse_intake(intake_data(**{field: value}))


@SETTINGS
@given(description=free_text(MAX_DESCRIPTION_CHARS), name=free_text(50))
def test_free_text_is_kept_exactly_as_typed(description: str, name: str) -> None:
    intake = parse_intake(intake_data(description=description, customer_name=name))
    assert intake.description == description and intake.customer_name == name
    # and survives the JSON the workflow input travels as
    assert ComplaintIntake.model_validate_json(intake.model_dump_json()) == intake


@settings(max_examples=40, deadline=None)
@given(
    description=st.one_of(
        st.text(min_size=MAX_DESCRIPTION_CHARS + 1, max_size=MAX_DESCRIPTION_CHARS + 50),
        st.sampled_from(["", " ", "\n\t ", "\u3000"]),  # blank, the ideographic space included
        free_text(200).map(lambda text: text + "\x00"),
    )
)
def test_too_long_blank_or_nul_descriptions_are_refused(description: str) -> None:
    refused(intake_data(description=description), "description")


@SETTINGS
@given(digits=st.text("0123456789", min_size=11, max_size=18), before=st.text("ABC-", max_size=3))
def test_a_case_id_holding_a_phone_or_id_number_is_refused(digits: str, before: str) -> None:
    error = refused(intake_data(complaint_id=f"CMP{before}{digits}"), "complaint_id")
    assert digits not in str(error)


def test_forwarding_without_an_id_number_or_to_our_own_network_is_refused() -> None:
    refused(intake_data(id_number=None), "ID number")
    refused(intake_data(partner_msisdn=FORWARDING_CUSTOMER.msisdn), "partner_msisdn")
