"""The supervisor's console: server-rendered pages at /console, served by the API service.

`console_router()` is the whole console as one FastAPI router; the service includes it (api.app.create_app).
Each request finds the console's context on the application: `app.state.console` when set (a ConsoleContext),
else one made once from the API's own (`app.state.context`). Pages work without scripts; the vendored htmx
(console/static/htmx.min.js, htmx.org 2.0.4, 0BSD licence beside it) only refreshes parts of them.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request

from console.actions import add_actions
from console.as_of import add_as_of
from console.audit import add_audit
from console.campaigns import add_campaigns
from console.context import ConsoleContext
from console.filing import add_filing
from console.pages import add_pages

__all__ = ["ConsoleContext", "console_router", "context_of_app"]


def context_of_app(request: Request) -> ConsoleContext:
    """The application's console context, made from the API's context on first use.

    Not at build time: the API builds its app without an engine too, for its OpenAPI document.
    """
    state = request.app.state
    context: ConsoleContext | None = getattr(state, "console", None)
    if context is None:
        context = state.console = ConsoleContext.from_api(state.context)
    return context


def console_router(context_of: Callable[[Request], ConsoleContext] = context_of_app) -> APIRouter:
    """The console's router: its pages and actions under /console."""
    router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
    add_pages(router, context_of)
    add_actions(router, context_of)
    add_campaigns(router, context_of)
    add_as_of(router, context_of)
    add_filing(router, context_of)
    add_audit(router, context_of)
    return router
