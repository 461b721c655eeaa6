"""The hash chain that makes tampering with a stored case visible.

Each event's hash covers the previous event's hash and the event's canonical JSON, so changing,
removing or reordering any event changes every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from domain.events import Event

GENESIS_HASH = "0" * 64


# orjson writes what `_stdlib_canonical_json` writes for every JSON document without a float (some floats it formats
# differently: 0.00006103515625 where json writes 6.103515625e-05). A document with a float, or with what orjson
# refuses (an integer beyond 64 bits, a lone surrogate) or that is not plain JSON (a datetime, a str subclass),
# goes the stdlib's way, so every hash ever stored still verifies (tests/properties/test_canonical_json.py).
_ORJSON_PLAIN = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def canonical_json(event: Event | dict[str, Any]) -> str:
    """The event as JSON with sorted keys and no insignificant whitespace: equal content, equal text."""
    data = event.model_dump(mode="json") if isinstance(event, Event) else event
    # The event store makes this text for every event it appends: orjson and the look for floats take half the
    # stdlib's time (events seldom hold a float: money is integer fen).
    if _holds_float(data):
        return _stdlib_canonical_json(data)
    try:
        return orjson.dumps(data, option=_ORJSON_PLAIN).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError, for what it will not write
        return _stdlib_canonical_json(data)


def _holds_float(data: object) -> bool:
    if isinstance(data, dict):
        return any(map(_holds_float, data.values()))
    if isinstance(data, list):
        return any(map(_holds_float, data))
    return isinstance(data, float)


def _stdlib_canonical_json(data: object) -> str:
    """The definition of canonical JSON: what every stored hash was computed over."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(previous_hash: str, event: Event | dict[str, Any]) -> str:
    """sha256 over the previous hash and the event's canonical JSON, hex-encoded."""
    return chain_hash_of_text(previous_hash, canonical_json(event))


def chain_hash_of_text(previous_hash: str, canonical: str) -> str:
    """`chain_hash` of an event whose canonical JSON is already at hand (the store writes that text too)."""
    digest = hashlib.sha256()
    digest.update(previous_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical.encode("utf-8"))
    return digest.hexdigest()
