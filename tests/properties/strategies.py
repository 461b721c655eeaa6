"""Hypothesis strategies for the values people type at a counter, and for what goes wrong with them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from domain.cases import Category
from domain.msisdn import Carrier, carrier_of

# Ranges of each carrier (domain.msisdn holds the full table; these are enough to draw from).
MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "187",
    "188",
    "198",
)
UNICOM_PREFIXES = ("130", "131", "132", "155", "156", "185", "186")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

HOSTILE_TEXT = [
    "'; DROP TABLE complaint_events; --",
    "1' OR '1'='1",
    "$1); DELETE FROM boss.adjustment_ledger; --",
    "\\x00\\u0000 not really a NUL",
    "<script>alert(1)</script>",
    "{{7*7}} ${jndi:ldap://x}",
    "\u202eRTL override\u202c",
    "zero\u200bwidth\u200djoiner\ufeff",
    "emoji 📱💸🙅‍♀️",
    "话费突增, 要求解释!!! 😡",
    "line\nbreaks\r\nand\ttabs",
    "  leading and trailing spaces  ",
]


def mobile_numbers(prefixes: tuple[str, ...] = MOBILE_PREFIXES) -> st.SearchStrategy[str]:
    """Valid 11-digit mainland numbers of the given ranges."""
    return st.builds(
        lambda p, rest: p + rest, st.sampled_from(prefixes), st.text("0123456789", min_size=8, max_size=8)
    )


def unicom_numbers() -> st.SearchStrategy[str]:
    return mobile_numbers(UNICOM_PREFIXES).filter(lambda n: carrier_of(n) is Carrier.CHINA_UNICOM)


def _check_character(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def id_numbers() -> st.SearchStrategy[str]:
    """Resident ID numbers with a correct check character."""
    return st.text("0123456789", min_size=17, max_size=17).map(lambda body: body + _check_character(body))


def free_text(max_size: int = 4000) -> st.SearchStrategy[str]:
    """What a customer may say: any text a database can hold (no NUL, no lone surrogates), not blank."""
    alphabet = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    drawn = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(alphabet, min_size=1, max_size=max_size))
    return drawn.filter(lambda text: bool(text.strip()) and len(text) <= max_size)


def not_a_category() -> st.SearchStrategy[str]:
    known = {category.value for category in Category}
    variants = st.sampled_from(
        [c.value.upper() for c in Category]
        + [f" {c.value}" for c in Category]
        + ["billing-spike", "BillingSpike", "", "null", "forwarding_cancel\x00"]
    )
    return st.one_of(variants, st.text(max_size=30)).filter(lambda text: text not in known)


def junk() -> st.SearchStrategy[Any]:
    """Values of the wrong type for a text field (bytes are not among them: pydantic reads UTF-8 bytes
    as the text they encode, which is what a caller handing bytes means)."""
    return st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
