"""Masking of phone and ID numbers in free text, as logs and screens need it."""

from __future__ import annotations

import pytest

from domain.masking import mask_id_number, mask_msisdn, scrub


def test_mask_msisdn_keeps_the_ends() -> None:
    assert mask_msisdn("13666778765") == "136****8765"


def test_mask_msisdn_keeps_typed_separators() -> None:
    assert mask_msisdn("136-6677-8765") == "136-****-8765"
    assert mask_msisdn("136 6677 8765") == "136 **** 8765"


def test_mask_id_number_keeps_the_ends() -> None:
    assert mask_id_number("330106198001011235") == "3301**********1235"
    assert mask_id_number("33010619800101123X") == "3301**********123X"


@pytest.mark.parametrize("short", ["", "1", "123456"])
def test_short_values_are_masked_completely(short: str) -> None:
    assert mask_msisdn(short) == "*" * len(short)
    assert mask_id_number(short) == "*" * len(short)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13666778765", "136****8765"),
        ("客户13666778765来电", "客户136****8765来电"),
        ("号码:13967341014,欠费20元", "号码:139****1014,欠费20元"),
        ("+8613666778765", "+86136****8765"),
        ("+86 13666778765", "+86 136****8765"),
        ("8613666778765", "86136****8765"),
        ("0086-13666778765", "0086-136****8765"),
        ("拨打 138-1940-8540 无人接听", "拨打 138-****-8540 无人接听"),
        ("身份证330106198001011235已核验", "身份证3301**********1235已核验"),
        ("id 33010619800101123x.", "id 3301**********123x."),
        ("两个号码 13567383861 和 13819408540", "两个号码 135****3861 和 138****8540"),
        ("赵先生(330106198001011235, 13905710001)", "赵先生(3301**********1235, 139****0001)"),
    ],
)
def test_scrub_masks_numbers_inside_text(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号 2136667787651 已退款",  # 13 digits: longer than a phone number
        "流水 136667787650",  # 12 digits starting like a phone number
        "1366677876",  # 10 digits: too short
        "12666778765",  # 12x is no mobile range
        "3301061980010112351",  # 19 digits: longer than an ID number
        "金额 5820 分,58.20 元",
        "2008-11-26 到 2010-05-25",
        "10086 和 10010 都是客服热线",
        "时间戳 1732550400123",
        "136-6677-87650",  # grouped, but the last group is too long
        "136-6677 8765",  # mixed separators are not one number
    ],
)
def test_scrub_leaves_other_digit_runs_alone(text: str) -> None:
    assert scrub(text) == text


def test_scrub_is_idempotent() -> None:
    once = scrub("13666778765 / 330106198001011235")
    assert scrub(once) == once == "136****8765 / 3301**********1235"


def test_no_digit_of_the_middle_survives() -> None:
    masked = scrub("投诉人 13666778765 身份证 330106198001011235")
    assert "66677" not in masked and "0619800101" not in masked
