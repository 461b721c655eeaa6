"""The engine's own acts on a ticket, as task endpoints under it (answer, adjustments, reassign, resolve, reopen)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["troubleTicket tasks"])
