"""TMF621 troubleTicket: POST, GET one, GET list, PATCH (merge-patch)."""

from __future__ import annotations

from fastapi import APIRouter

BASE_PATH = "/tmf-api/troubleTicket/v5"

router = APIRouter(tags=["troubleTicket"])
