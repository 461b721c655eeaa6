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
