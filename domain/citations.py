"""Citations: the exact billing-system records an adjustment rests on, each with a hash of its content.

An adjustment names every record it relies on by kind and id, with the sha256 of the record's
canonical JSON (sorted keys, no insignificant whitespace, dates and times as ISO text). An auditor
re-fetches the records later and recomputes the hashes (`starter verify --deep`): a record changed
since shows. The billing system refuses a second remedy for a record cited as a *charge* (the money
that was wrong), whichever case asks; records cited as *evidence* (the other channels, the other
party's records) may back any number of decisions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RecordKind = Literal["bill_line", "cdr", "daily_charge", "sale", "balance_change", "sp_order"]
CitationRole = Literal["charge", "evidence"]

RECORD_KINDS: tuple[RecordKind, ...] = ("bill_line", "cdr", "daily_charge", "sale", "balance_change", "sp_order")
MONEY_KINDS = frozenset({"refund", "double_refund", "arrears_waiver"})


class Citation(BaseModel):
    """One cited record: what it is, its id in the billing system, and the hash of its content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: RecordKind
    record_id: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    role: CitationRole = "evidence"

    @property
    def key(self) -> str:
        """The record's identity across cases: one remedy per charge key, ever."""
        return f"{self.kind}:{self.record_id}"

    def describe(self) -> str:
        """One line for people: kind, record id, role and the start of the hash."""
        return f"{self.kind} {self.record_id} ({self.role}, sha256 {self.sha256[:12]})"


def split_charge_key(key: str) -> tuple[str, str]:
    """A charge key's parts, (record kind, record id): the inverse of `Citation.key`."""
    kind, separator, record_id = key.partition(":")
    if not separator or not record_id:
        raise ValueError(f"a charge key is 'kind:record_id', not {key!r}")
    return kind, record_id


def canonical_record_json(content: Mapping[str, Any]) -> str:
    """A record's content as canonical JSON: equal content, equal text, equal hash."""
    return json.dumps(dict(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def record_hash(content: Mapping[str, Any]) -> str:
    """The SHA-256 of a record's canonical JSON: what a citation pins the record's content to."""
    return hashlib.sha256(canonical_record_json(content).encode("utf-8")).hexdigest()


def cite(kind: RecordKind, record_id: str, content: Mapping[str, Any], role: CitationRole = "evidence") -> Citation:
    """The citation of a record whose JSON content (as the billing system gives it) is `content`."""
    return Citation(kind=kind, record_id=record_id, sha256=record_hash(content), role=role)


def charges(citations: list[Citation]) -> list[Citation]:
    """The cited charges, in a stable order (the billing system locks them in this order)."""
    return sorted((c for c in citations if c.role == "charge"), key=lambda c: c.key)
