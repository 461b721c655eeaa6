"""The event store's shortcuts past the personal-data walk decide exactly as the walk does.

An append seals an event only when one look over its JSON text says it may hold something personal
(`may_hold_personal`), the read model's state is walked only where such a look finds something
(`seal_document`), and `holds_personal_number` first looks for a number's shape in bytes. Both must never
let through a string the full rules would seal: documents of hostile text, numbers in every shape and the
case's own values in awkward spots are drawn until one would.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.masking import holds_personal_number, scrub
from domain.personal_data import (
    ERASED,
    PERSONAL_FIELDS,
    SEALED_PREFIX,
    in_json,
    known_values,
    may_hold_personal,
    seal_document,
    seal_personal,
)
from tests.properties.strategies import HOSTILE_TEXT, id_numbers, mobile_numbers

# Characters that sit next to numbers in text: digits of other scripts, separators, the escapes JSON makes.
_NEAR_NUMBERS = "0123456789 -+Xx86:/\\\"\n\t\x01\x1f\x7f\u2028中٣３"


def _numbers() -> st.SearchStrategy[str]:
    """Numbers as people write them: together, grouped 3-4-4, with a +86 / 0086 prefix, or an ID number."""
    grouped = st.builds(
        lambda n, sep, prefix: prefix + n[:3] + sep + n[3:7] + sep + n[7:],
        mobile_numbers(),
        st.sampled_from(["", " ", "-"]),
        st.sampled_from(["", "+86", "0086 ", "86-", "1", "0"]),
    )
    return st.one_of(grouped, id_numbers())


def _texts(known: list[str]) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.text(_NEAR_NUMBERS, max_size=14),
        _numbers(),
        # A control character is escaped as \u00XX, whose last hex digit may be a digit next to a number.
        st.sampled_from([*HOSTILE_TEXT, SEALED_PREFIX, ERASED, "\x01", "\x05", "\x1f", *known]),
        st.text(max_size=8),
    )
    return st.lists(pieces, max_size=5).map("".join)


def _documents(known: list[str]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from([*sorted(PERSONAL_FIELDS), "text", "facts", "summary"]), st.text(max_size=6))
    leaves = st.one_of(_texts(known), st.integers(), st.none(), st.booleans())
    return st.recursive(
        leaves,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=4)),
        max_leaves=12,
    )


@st.composite
def _cases(draw: st.DrawFn) -> tuple[Any, frozenset[str]]:
    own = draw(st.lists(st.one_of(st.text(_NEAR_NUMBERS, min_size=1, max_size=6), _numbers()), max_size=3))
    return draw(_documents(own)), known_values(own)


def _mark(value: str) -> str:
    return f"<sealed {len(value)}>"


@settings(max_examples=400, deadline=None)
@given(case=_cases(), separators=st.sampled_from([(",", ":"), (", ", ": ")]), sort_keys=st.booleans())
def test_a_document_whose_text_shows_nothing_personal_has_nothing_to_seal(
    case: tuple[Any, frozenset[str]], separators: tuple[str, str], sort_keys: bool
) -> None:
    document, known = case
    text = json.dumps(document, ensure_ascii=False, separators=separators, sort_keys=sort_keys)
    if not may_hold_personal(text, in_json(known)):
        assert seal_personal(document, _mark, known) == document


@settings(max_examples=400, deadline=None)
@given(case=_cases())
def test_sealing_a_state_entry_by_entry_seals_what_the_whole_walk_seals(case: tuple[Any, frozenset[str]]) -> None:
    document, known = case
    state = document if isinstance(document, dict) else {"entry": document, "msisdn": "13905710001"}
    assert seal_document(state, _mark, known) == seal_personal(state, _mark, known)


@settings(max_examples=800, deadline=None)
@given(text=_texts([]))
def test_the_quick_number_check_agrees_with_the_masking(text: str) -> None:
    # scrub masks every number the pattern finds, and every mask changes the text.
    assert holds_personal_number(text) == (scrub(text) != text)
