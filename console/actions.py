"""The case page's acts and exports.

Every act goes through ComplaintClient with the session's token, so the workflow's own validators decide (roles, the
four-eyes rule, what the case's status allows): the console only shows or hides buttons, it never grants anything a
forged request could not also get.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from audit.export import build_bundle, masked_events
from audit.verify import UnknownCase
from auth.embedded import PII_READ
from client.api import CaseNotFound, CommandRefused, ComplaintClient, NotAuthenticated, NotVisible
from console import views
from console.context import ConsoleContext, LoginNeeded, Session, acting_client, form_fields, same_origin, session_of
from console.pages import render_case, to_login
from domain.errors import InvalidCommand
from domain.events import Event

log = structlog.get_logger()

Act = Callable[[ComplaintClient, str, dict[str, str]], Awaitable[Any]]


async def _decide(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    approve = f.get("decision") == "approve"
    await client.decide(case, f.get("adjustment_id", ""), approve=approve, reason=f.get("reason", ""))
    return f"{'approved' if approve else 'refused'} {f.get('adjustment_id', '')}"


async def _note(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    await client.note(case, f.get("text", ""))
    return "note added"


async def _reassign(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    await client.reassign(case, f.get("to_assignee", ""), reason=f.get("reason", ""))
    return f"reassigned to {f.get('to_assignee', '')}"


async def _resolve(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    await client.resolve(case, f.get("outcome", ""), f.get("summary", ""))
    return "resolved; the customer is asked to confirm"


async def _withdraw(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    await client.withdraw(case, f.get("reason", ""))
    return "withdrawn"


async def _reopen(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    await client.reopen(case, f.get("reason", ""))
    return "reopened"


async def _answer(client: ComplaintClient, case: str, f: dict[str, str]) -> str:
    # Staff relay what the customer said at the counter or on the phone: the event names both (`answer
    # --on-behalf` in the CLI). The console never answers as the customer.
    answer = await client.answer(case, f.get("question_id", ""), f.get("answer", ""), comment=f.get("comment", ""),
                                 on_behalf_of="customer")
    return f"answered {f.get('question_id', '')!r} with {answer!r} on behalf of the customer"


ACTS: dict[str, Act] = {
    "answer": _answer,
    "decide": _decide,
    "note": _note,
    "reassign": _reassign,
    "resolve": _resolve,
    "withdraw": _withdraw,
    "reopen": _reopen,
}


def add_actions(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the console's case actions (the POST forms) to `router`."""
    @router.post("/cases/{complaint_id}/{act}", response_model=None)
    async def act(request: Request, complaint_id: str, act: str) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        if act not in ACTS:
            return Response("no such act", status_code=404)
        if not same_origin(request):
            return Response("cross-site request refused", status_code=403)
        fields = await form_fields(request)
        client = acting_client(context, session)
        try:
            done = await ACTS[act](client, complaint_id, fields)
        except (CommandRefused, InvalidCommand, NotAuthenticated, NotVisible, CaseNotFound,
                WorkflowFailureError, RPCError) as refusal:
            log.info("console_act_refused", act=act, case=complaint_id, actor=session.actor.subject)
            return await render_case(request, context, session, complaint_id, refused=f"{act} refused: {refusal}",
                                     status_code=403)
        log.info("console_act", act=act, case=complaint_id, actor=session.actor.subject)
        # Post/redirect/get: reloading the page never repeats the act.
        return RedirectResponse(f"/console/cases/{quote(complaint_id)}?done={quote(done)}", status_code=303)

    @router.get("/cases/{complaint_id}/export.json", response_model=None)
    async def export_json(request: Request, complaint_id: str) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        try:
            bundle = await build_bundle(
                context.pool, complaint_id, exported_at=datetime.now(UTC), keys=context.payload_keys,
                personal_data="clear" if session.actor.has_scope(PII_READ) else "masked",
            )
        except UnknownCase as missing:
            return Response(str(missing), status_code=404)
        return JSONResponse(bundle, headers=_attachment(f"{complaint_id}.json"))

    @router.get("/cases/{complaint_id}/export.csv", response_model=None)
    async def export_csv(request: Request, complaint_id: str) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        try:
            view = await acting_client(context, session).view(complaint_id)
        except (CaseNotFound, NotVisible) as missing:
            return Response(str(missing), status_code=404)
        return Response(timeline_csv(session, list[Event](view.timeline)), media_type="text/csv; charset=utf-8",
                        headers=_attachment(f"{complaint_id}.csv"))


def timeline_csv(session: Session, timeline: list[Event]) -> str:
    """The timeline as the page shows it, one event a row; personal values masked without pii:read."""
    events = timeline if session.actor.has_scope(PII_READ) else masked_events(timeline)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "time_shanghai", "actor", "type", "what", "details"])
    for entry in views.timeline_entries(events):
        writer.writerow([entry.seq, entry.when, entry.actor, entry.kind, entry.text, " | ".join(entry.details)])
    return out.getvalue()


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
