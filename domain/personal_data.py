"""Which values of an event are personal data, and how they are swapped for sealed ones and back.

Pure: the sealing itself (AES-GCM under the customer's key) is handed in as a function by the store
(store/pii.py), so this module decides only *what* is personal. A string is personal when its field
names a personal value (the number, name, ID number, partner number), when it holds a mainland mobile
or resident ID number anywhere in its text, or when it contains one of the case's own personal values
(the customer's name inside a summary, say). Such a string is sealed whole.

After erasure the key is gone, and every sealed value reads `ERASED`. The sentinel is a plain string,
so every model whose personal fields are `str` (events, the folded state) stays valid: the read side
never has to parse an erased number.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from domain.masking import holds_personal_number, scrub

ERASED = "[erased]"
"""What a personal value reads once its customer's key is destroyed."""

SEALED_PREFIX = "pii:v1:"
"""Stored strings that start with this are sealed values: `pii:v1:<key id>:<base64 nonce+ciphertext>`."""

PERSONAL_FIELDS = frozenset({"msisdn", "customer_name", "id_number", "partner_msisdn"})
"""Fields whose value is personal whatever it looks like (a name has no pattern to find)."""

# Shorter known values (a one-character name) would seal every string that happens to contain them.
_MIN_KNOWN_LENGTH = 2

JsonValue = Any
Seal = Callable[[str], str]
Unseal = Callable[[str], str]


def known_values(values: Iterable[str | None]) -> frozenset[str]:
    """The case's own personal values worth looking for inside free text."""
    return frozenset(v for v in values if v and v != ERASED and len(v) >= _MIN_KNOWN_LENGTH)


def is_personal(field: str | None, value: str, known: frozenset[str]) -> bool:
    """True when `value` (under `field`) is personal data that must not be stored in clear."""
    if value == ERASED:
        return False
    if field in PERSONAL_FIELDS:
        return True
    if value.startswith(SEALED_PREFIX):
        # Text that merely looks sealed is sealed too, so the read side never mistakes it.
        return True
    if holds_personal_number(value):
        return True
    return any(known_value in value for known_value in known)


# What shows in JSON text wherever there may be something to seal: a `\u` escape (see may_hold_personal), the
# sealed prefix, a personal field's key (either separator style follows the colon).
_MARKERS = ("\\u", SEALED_PREFIX, *(f'"{field}":' for field in sorted(PERSONAL_FIELDS)))


def in_json(known: frozenset[str]) -> tuple[str, ...]:
    """The known values as they show inside JSON text (quotes, backslashes, control characters escaped)."""
    return tuple(json.dumps(value, ensure_ascii=False)[1:-1] for value in known)


def may_hold_personal(text: str, known_in_json: tuple[str, ...]) -> bool:
    r"""Whether JSON `text` (json.dumps, ensure_ascii=False) may hold a string `seal_personal` would seal.

    `known_in_json` is `in_json` of the known values `seal_personal` is given. False means `seal_personal` of the
    document would give it back unchanged, so the store need not walk it: one pass of each test over the whole
    text instead of every test on every string. Each test of `is_personal` still holds on the text: a personal
    field shows as its key, the sealed prefix and a known value (as JSON escapes it) show inside their string, and
    a number keeps its non-digit edges, since JSON escapes no digit, sign or space and writes a quote or end of
    string around them. The one escape that could hide an edge is `\uXXXX` (a control character: its hex may end
    in a digit), so text with one is always walked. Anything else found in the text (a number split across two
    strings, a key holding one) only means walking a document that needs nothing: the walk decides.
    """
    for marker in _MARKERS:
        if marker in text:
            return True
    for value in known_in_json:
        if value in text:
            return True
    return holds_personal_number(text)


def seal_personal(data: JsonValue, seal: Seal, known: frozenset[str], field: str | None = None) -> JsonValue:
    """A copy of JSON `data` with every personal string replaced by `seal(string)`."""
    if isinstance(data, dict):
        return {key: seal_personal(value, seal, known, key) for key, value in data.items()}
    if isinstance(data, list):
        return [seal_personal(item, seal, known, field) for item in data]
    if isinstance(data, str) and is_personal(field, data, known):
        return seal(data)
    return data


def seal_document(data: dict[str, JsonValue], seal: Seal, known: frozenset[str]) -> dict[str, JsonValue]:
    """`seal_personal` of a JSON object, walking only the entries whose JSON text may hold something to seal.

    A folded state holds the case's own values at its top, so it is never passed over whole, but most of its
    entries (clocks, evidence, the policy) hold nothing to seal: each is looked over as text first.
    """
    known_in = in_json(known)
    sealed: dict[str, JsonValue] = {}
    for field, value in data.items():
        nested = isinstance(value, dict | list) and field not in PERSONAL_FIELDS
        if nested and not may_hold_personal(json.dumps(value, ensure_ascii=False), known_in):
            sealed[field] = value
        else:
            sealed[field] = seal_personal(value, seal, known, field)
    return sealed


def unseal_personal(data: JsonValue, unseal: Unseal) -> JsonValue:
    """A copy of stored JSON `data` with every sealed string replaced by `unseal(string)`."""
    if isinstance(data, dict):
        return {key: unseal_personal(value, unseal) for key, value in data.items()}
    if isinstance(data, list):
        return [unseal_personal(item, unseal) for item in data]
    if isinstance(data, str) and data.startswith(SEALED_PREFIX):
        return unseal(data)
    return data


def mask_personal(data: JsonValue, known: frozenset[str], field: str | None = None) -> JsonValue:
    """A copy of clear JSON `data` fit for someone who may not see personal data.

    Numbers masked (136****8765), the case's other personal values and personal fields shown as `***`.
    """
    if isinstance(data, dict):
        return {key: mask_personal(value, known, key) for key, value in data.items()}
    if isinstance(data, list):
        return [mask_personal(item, known, field) for item in data]
    if isinstance(data, str) and data != ERASED:
        masked = scrub(data)
        for known_value in known:
            masked = masked.replace(known_value, "***")
        if field in PERSONAL_FIELDS and masked == data:
            return "***"
        return masked
    return data


def same_or_erased(stored: JsonValue, incoming: JsonValue) -> bool:
    """Whether stored (unsealed) JSON equals `incoming`, where an erased stored value matches anything.

    A field added to an event since it was stored (optional, null by default: `disputed_since`, say) is absent
    from the stored JSON; `incoming` null there is the same event, so an append retried across a deploy that
    added such a field stores nothing twice instead of reporting a conflict.
    """
    if stored == ERASED:
        return True
    if isinstance(stored, dict) and isinstance(incoming, dict):
        added_since = incoming.keys() - stored.keys()
        return (
            stored.keys() <= incoming.keys()
            and all(incoming[k] is None for k in added_since)
            and all(same_or_erased(stored[k], incoming[k]) for k in stored)
        )
    if isinstance(stored, list) and isinstance(incoming, list):
        return len(stored) == len(incoming) and all(same_or_erased(a, b) for a, b in zip(stored, incoming, strict=True))
    return bool(stored == incoming)
