"""canonical_json writes, byte for byte, what every stored hash was computed over (json.dumps, sorted, compact).

The event store hashes this text and an auditor's verify hashes it again from the stored JSON, so the fast path
(orjson) may never differ from the definition by one byte: any document, any float, any string.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.hashing import canonical_json
from tests.domain.factories import regulated_case
from tests.properties.strategies import HOSTILE_TEXT


def _definition(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    # Where the float formats part: exponents of one and two digits, either sign, around repr's switch-overs.
    st.builds(lambda m, e: m * 10.0**e, st.integers(1, 99), st.integers(-20, 25)),
)
_TEXT = st.one_of(st.text(), st.sampled_from(HOSTILE_TEXT), st.text("e-+0123456789.", max_size=10))
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), _FLOATS, _TEXT
)
_DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_TEXT, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(_TEXT, _DOCUMENTS, max_size=6))
@example({"rate": 1e-07, "id": "c-1e-7"})
@example({"big": 2**64, "small": -(2**63) - 1, "u64": 2**64 - 1})
@example({"\u2028": "\x00\x1f\x7f\"\\", "z": [0.1, 1e16, 1e22, 5e-324, -0.0]})
def test_canonical_json_is_the_definition_for_every_document(document: dict[str, Any]) -> None:
    assert canonical_json(document) == _definition(document)


def test_an_events_canonical_json_is_the_definition_of_its_dump() -> None:
    for event in regulated_case():
        assert canonical_json(event) == _definition(event.model_dump(mode="json"))


def test_a_lone_surrogate_is_written_as_the_stdlib_writes_it() -> None:
    assert canonical_json({"s": "\ud800"}) == _definition({"s": "\ud800"})


class _Colour(StrEnum):
    RED = "red"


def test_what_is_not_plain_json_goes_the_stdlibs_way() -> None:
    # orjson would write these itself; the definition writes a str subclass as its text and refuses a datetime.
    assert canonical_json({"c": _Colour.RED}) == '{"c":"red"}'
    with pytest.raises(TypeError):
        canonical_json({"at": datetime(2026, 12, 2, tzinfo=UTC)})


def test_floats_round_trip_through_the_text() -> None:
    # Stored JSON is parsed again to verify the chain: the text must give back the same float.
    for value in (1e-07, 2.5e-05, 1e16, 0.1 + 0.2):
        assert math.isclose(json.loads(canonical_json({"v": value}))["v"], value, rel_tol=0)
