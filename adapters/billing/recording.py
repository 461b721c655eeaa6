"""How the PostgreSQL billing adapter records a write's request and outcome (boss.actions)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _same_request(stored: str, request: dict[str, Any]) -> bool:
    return bool(json.loads(stored) == json.loads(_json(request)))


class _Outcome(NamedTuple):
    effective: bool
    reference: str | None
    details: dict[str, Any]


