"""Filing a complaint from the console (`starter file` in the browser).

The form's fields are the intake's; the intake is validated as the CLI validates it (nothing is sent when it
is wrong), and the filer is the logged-in person: ComplaintClient.file puts the token's actor on the intake,
whatever the form says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.service import RPCError

from client.api import CaseAlreadyFiled, CommandRefused, NotAuthenticated
from client.basics import new_complaint_id
from console.context import ConsoleContext, LoginNeeded, Session, acting_client, form_fields, same_origin, session_of
from console.pages import render, to_login
from domain.actors import ActorChannel
from domain.cases import Category, IntakeChannel, Priority
from domain.clock import local_day
from domain.errors import InvalidIntake
from domain.intake import MAX_DESCRIPTION_CHARS, parse_intake

log = structlog.get_logger()
FIELDS = ("category", "msisdn", "name", "description", "priority", "channel", "id_number", "partner_msisdn",
          "disputed_since")
# How long the filing waits for the case to name the open cases of the same number and category.
LINK_WAIT_SECONDS = 5.0


def _form(request: Request, session: Session, fields: dict[str, str], error: str | None, status_code: int = 200
          ) -> HTMLResponse:
    choices: dict[str, Any] = dict(categories=[c.value for c in Category], priorities=[p.value for p in Priority],
                                   channels=[c.value for c in IntakeChannel])
    return render(request, "file.html", status_code=status_code, session=session, fields=fields, error=error,
                  max_description=MAX_DESCRIPTION_CHARS, **choices)


def add_filing(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the filing form and its submission to the console router."""
    @router.get("/file", response_class=HTMLResponse, response_model=None)
    async def file_form(request: Request) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        return _form(request, session, {"priority": Priority.NORMAL.value, "channel": IntakeChannel.STORE.value},
                     None)

    @router.post("/file", response_model=None)
    async def file_case(request: Request) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        if not same_origin(request):
            return Response("cross-site request refused", status_code=403)
        fields = {name: value for name, value in (await form_fields(request)).items() if name in FIELDS}
        try:
            intake = parse_intake({
                "complaint_id": new_complaint_id(), "category": fields.get("category", ""),
                "msisdn": fields.get("msisdn", ""), "customer_name": fields.get("name", ""),
                "description": fields.get("description", ""), "priority": fields.get("priority") or "normal",
                "channel": fields.get("channel") or "store", "id_number": fields.get("id_number") or None,
                "partner_msisdn": fields.get("partner_msisdn") or None,
                "disputed_since": fields.get("disputed_since") or None,
                # Replaced by the logged-in filer (ComplaintClient.file); a placeholder to validate the rest.
                "filed_by": session.actor.actor(ActorChannel.WEB).model_dump(),
            }, today=local_day(datetime.now(UTC)))
        except InvalidIntake as bad:
            return _form(request, session, fields, f"not filed: {bad}", status_code=400)
        try:
            receipt = await acting_client(context, session).file(intake, wait_for_links=LINK_WAIT_SECONDS)
        except (CaseAlreadyFiled, CommandRefused, NotAuthenticated, RPCError) as refusal:
            return _form(request, session, fields, f"not filed: {refusal}", status_code=403)
        log.info("console_filed", case=intake.complaint_id, actor=session.actor.subject)
        done = f"filed {intake.complaint_id} ({intake.category.value})"
        if receipt.rejection is not None:
            done += f"; rejected at intake: {receipt.rejection.rule}"
        if receipt.linked_case_ids:
            done += f"; linked to open case(s) of the same number and category: {', '.join(receipt.linked_case_ids)}"
        return RedirectResponse(f"/console/cases/{quote(intake.complaint_id)}?done={quote(done)}", status_code=303)
