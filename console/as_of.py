"""The case as it stood at a moment (`starter show --as-of` in the browser).

The state and the timeline are folded from the events stored up to then, read from the event store, so it
works after Temporal has dropped the case too.
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cli.audit_common import parse_time
from cli.timeline import render_state
from console import views
from console.context import ConsoleContext, LoginNeeded, session_of
from console.pages import render, to_login
from domain.clock import format_local
from domain.state import fold
from store.event_store import PostgresEventStore


def add_as_of(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the page of a case as it stood at a moment to the console router."""
    @router.get("/cases/{complaint_id}/as-of", response_class=HTMLResponse, response_model=None)
    async def as_of_page(request: Request, complaint_id: str, at: str = "") -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        try:
            moment = parse_time(at.strip().replace(" ", "T", 1))
        except ArgumentTypeError as bad:  # the same words the CLI prints
            return render(request, "missing.html", status_code=400, session=session, message=str(bad))
        store = context.store or PostgresEventStore(context.pool)
        events = await store.load(complaint_id, until=moment)
        total = await store.event_count(complaint_id)
        state = fold(events)
        if state is None:
            said = (f"case {complaint_id} had not been filed yet at {format_local(moment)} (Asia/Shanghai)" if total
                    else f"no case {complaint_id} in the event store")
            return render(request, "missing.html", status_code=404, session=session, message=said)
        return render(request, "case_as_of.html", session=session, complaint_id=complaint_id,
                      when=format_local(moment), included=len(events), total=total,
                      summary=render_state(state), entries=views.timeline_entries(events))
