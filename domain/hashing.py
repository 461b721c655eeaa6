"""The hash chain that makes tampering with a stored case visible.

Each event's hash covers the previous event's hash and the event's canonical JSON, so changing,
removing or reordering any event changes every hash after it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from domain.events import Event

GENESIS_HASH = "0" * 64


def canonical_json(event: Event | dict[str, Any]) -> str:
    """The event as JSON with sorted keys and no insignificant whitespace: equal content, equal text."""
    data = event.model_dump(mode="json") if isinstance(event, Event) else event
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
