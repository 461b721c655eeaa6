"""The supervisor's console: server-rendered pages at /console, served by the API service.

`console_router(context)` is the whole console as one FastAPI router; the service includes it
(`app.include_router(console_router(context))`). Pages work without scripts; the vendored htmx
(console/static/htmx.min.js, htmx.org 2.0.4, 0BSD licence beside it) only refreshes parts of them.
"""

from __future__ import annotations

from fastapi import APIRouter

from console.actions import add_actions
from console.context import ConsoleContext
from console.pages import add_pages

__all__ = ["ConsoleContext", "console_router"]


def console_router(context: ConsoleContext) -> APIRouter:
    router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
    add_pages(router, context)
    add_actions(router, context)
    return router
