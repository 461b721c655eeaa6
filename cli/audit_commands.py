"""Audit commands: history, export, verify, rebuild-projections, show --as-of (placeholder)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from runtime.settings import Settings


def parse_time(text: str) -> datetime:
    """An ISO time; without a zone it is read as Asia/Shanghai, the time people at the counter use."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


async def show_as_of(settings: Settings, complaint_id: str, as_of: datetime, *, as_json: bool = False) -> int:
    raise NotImplementedError


def register(command: Any) -> None:
    """Add the audit subcommands to starter.py's parser."""
