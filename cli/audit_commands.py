"""Audit commands: history, export, verify, rebuild-projections (placeholder)."""

from __future__ import annotations

from typing import Any


def register(command: Any) -> None:
    """Add the audit subcommands to starter.py's parser."""
