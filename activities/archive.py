"""Archiving closed cases' Temporal histories into PostgreSQL (placeholder)."""

from __future__ import annotations

from typing import Any

import asyncpg
from temporalio.client import Client


class ArchiveActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool) -> None:
        self._client = client
        self._pool = pool

    def all(self) -> list[Any]:
        return []
