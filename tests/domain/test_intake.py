"""Filing: bad input gets one readable line per problem."""

from __future__ import annotations

import pytest

from domain.cases import Category
from domain.errors import InvalidIntake
from domain.intake import parse_intake
from tests.domain.factories import intake_data


def test_the_seed_forwarding_case_is_a_valid_intake() -> None:
    intake = parse_intake(intake_data())
    assert intake.category is Category.FORWARDING_CANCEL
    assert intake.partner_carrier is not None and intake.partner_carrier.value == "china_unicom"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"msisdn": "1390571000"}, "msisdn: a mainland mobile number has 11 digits, this one has 10"),
        ({"category": "lost_phone"}, "category: Input should be"),
        ({"id_number": "330106198001011234"}, "id_number: the ID number's check digit"),
        ({"id_number": None}, "needs the customer's ID number"),
        ({"partner_msisdn": "13905710002"}, "must be another carrier's number"),
        ({"complaint_id": "case-13905710001"}, "may not contain a phone or ID number"),
        ({"complaint_id": "a b"}, "a case id is 3-64 letters"),
        ({"description": "   "}, "description: must not be blank"),
        ({"description": "x" * 4001}, "description: String should have at most 4000 characters"),
        ({"filed_by": {"id": "x", "role": "janitor"}}, "filed_by.role"),
    ],
)
def test_bad_intake_says_which_field_and_why(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidIntake) as caught:
        parse_intake(intake_data(**overrides))
    assert message in str(caught.value)
    assert "https://" not in str(caught.value)


def test_free_text_is_kept_exactly() -> None:
    text = "Robert'); DROP TABLE complaint_events;-- 😀 \n 第二行"
    assert parse_intake(intake_data(description=text)).description == text


def test_other_categories_need_no_identity() -> None:
    intake = parse_intake(intake_data(category="spam_sms", id_number=None, partner_msisdn=None))
    assert intake.id_number is None


@pytest.mark.parametrize(
    "written",
    [
        "+86 136 6677 8765",
        "+86-136-6677-8765",
        "0086 13666778765",
        "008613666778765",
        "+8613666778765",
        "136 6677 8765",
        "136-6677-8765",
        "１３６６６７７８７６５",
        "＋８６ １３６ ６６７７ ８７６５",
        "136\u30006677\u30008765",
        "136－6677－8765",
        " 13666778765 ",
    ],
)
def test_numbers_are_taken_as_customers_write_them(written: str) -> None:
    assert parse_intake(intake_data(msisdn=written)).msisdn == "13666778765"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("+1 202 555 0101", "msisdn: only mainland China numbers are served (country code +86 or 0086)"),
        ("0044 20 7946 0958", "msisdn: only mainland China numbers are served"),
        ("86 136 6677 8765", "msisdn: a mainland mobile number has 11 digits, this one has 13: write the 11 digits"),
        ("136 6677 876", "this one has 10: write the 11 digits, e.g. 13905710001"),
        ("136.6677.8765", "msisdn: the phone number may not contain '.': write the 11 digits"),
        ("(136) 66778765", "may not contain '(' ')'"),
        ("١٣٦٦٦٧٧٨٧٦٥", "may not contain"),
        ("+86", "the phone number is empty"),
        ("120 6677 8765", "120 is not a mainland mobile number range"),
    ],
)
def test_a_number_that_cannot_be_read_says_what_is_wrong_and_how_to_write_it(written: str, message: str) -> None:
    with pytest.raises(InvalidIntake) as caught:
        parse_intake(intake_data(msisdn=written))
    said = str(caught.value)
    assert message in said
    assert "\n" not in said  # one line
    assert "6677" not in said and "8765" not in said  # the number is never repeated back


def test_the_partner_number_is_read_the_same_way() -> None:
    intake = parse_intake(intake_data(partner_msisdn="+86 130-6789-0001"))
    assert intake.partner_msisdn == "13067890001"
