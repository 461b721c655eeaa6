"""Amounts, drawn at random: exact in fen, and every bad amount refused with a DomainError or a
validation error, never a crash and never a rounded value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.citations import cite
from domain.errors import DomainError
from domain.money import format_yuan, yuan
from ports.billing import AdjustmentRequest
from stories.billing_spike import BILLING_SPIKE_CUSTOMER

SETTINGS = settings(max_examples=200, deadline=None)
MAX_FEN = 100_000_000_00  # domain.money.Fen's bound: 100 million yuan


@SETTINGS
@given(fen=st.integers(0, MAX_FEN))
def test_yuan_is_exact_for_every_amount_written_with_two_decimals(fen: int) -> None:
    written = f"{fen // 100}.{fen % 100:02d}"
    assert yuan(written) == fen
    assert yuan(Decimal(written)) == fen
    assert format_yuan(fen) == f"¥{written}"


@SETTINGS
@given(
    amount=st.one_of(
        st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False).map(str),
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False)
        .filter(lambda d: d * 100 != (d * 100).to_integral_value())
        .map(str),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(
            [
                "NaN",
                "sNaN",
                "Infinity",
                "-Infinity",
                "",
                " ",
                "58,20",
                "58.2O",
                "¥58.20",
                "0x10",
                "5820 fen",
                "--1",
                "1..0",
                "1/2",
                "DROP TABLE",
                "58.20;",
                None,
                True,
                [],
                {},
            ]
        ),
        st.text(max_size=12).filter(lambda text: not _is_plain_amount(text)),
    )
)
@example("-0.01")
@example("0.001")
@example(58.2)
def test_negative_sub_fen_float_and_garbage_amounts_are_refused(amount: Any) -> None:
    with pytest.raises(DomainError):
        yuan(amount)


def _is_plain_amount(text: str) -> bool:
    try:
        value = Decimal(text.strip())
    except ArithmeticError:
        return False
    return value.is_finite() and value >= 0 and (value * 100) == (value * 100).to_integral_value()


@settings(max_examples=20, deadline=None)
@given(exponent=st.integers(4400, 10**7))
def test_absurd_exponents_are_refused_with_a_domain_error(exponent: int) -> None:
    with pytest.raises(DomainError):
        yuan(f"1e{exponent}")


def _request(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "idempotency_key": "CMP-PROP-0001:r0:adj-1",
        "complaint_id": "CMP-PROP-0001",
        "msisdn": BILLING_SPIKE_CUSTOMER.msisdn,
        "kind": "refund",
        "amount_fen": 5820,
        "reason": "long calls the other party's records do not show",
        # A money adjustment cites the charge it remedies (domain.citations).
        "citations": [cite("cdr", "1", {"id": 1}, "charge").model_dump()],
    }
    data.update(overrides)
    return data


@SETTINGS
@given(fen=st.integers(1, MAX_FEN))
def test_a_refund_takes_any_whole_amount_of_fen_within_bounds(fen: int) -> None:
    assert AdjustmentRequest.model_validate(_request(amount_fen=fen)).amount_fen == fen


@SETTINGS
@given(
    amount=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=MAX_FEN + 1),
        st.floats(allow_nan=True),
        st.decimals(allow_nan=True),
        st.text(max_size=10),
        st.booleans(),
        st.none(),
    )
)
@example(58.2)
@example("5820")
@example(True)
def test_negative_huge_fractional_or_textual_amounts_are_refused(amount: Any) -> None:
    with pytest.raises(ValidationError):
        AdjustmentRequest.model_validate(_request(amount_fen=amount))


@SETTINGS
@given(
    field=st.sampled_from(["idempotency_key", "complaint_id", "msisdn", "kind", "reason"]),
    value=st.one_of(
        st.sampled_from(
            [
                "",
                " ",
                "x" * 501,
                "13666778765; DROP TABLE boss.customers",
                "refund\x00",
                "１３６６６７７８７６５",
                "CMP-13666778765",
            ]
        ),
        st.text(max_size=3),
    ),
)
def test_bad_adjustment_fields_are_refused(field: str, value: str) -> None:
    data = _request(**{field: value})
    try:
        request = AdjustmentRequest.model_validate(data)
    except ValidationError:
        return
    # Whatever passes is still a well-formed request: the same value survives the JSON round trip.
    assert getattr(request, field) == value or field == "msisdn"
    assert AdjustmentRequest.model_validate_json(request.model_dump_json()) == request
    assert request.kind in (
        "refund",
        "double_refund",
        "validity_extension",
        "arrears_waiver",
        "sp_unsubscription",
    )
