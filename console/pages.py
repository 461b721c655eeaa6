"""The console's pages: login, the queue, the case, the dashboard.

Server-rendered; htmx only refreshes parts of them (the queue table on a timer, a case after an act) when the browser
runs scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from audit.archive_store import PostgresArchiveStore
from audit.verify import UnknownCase, verify_case
from auth.embedded import LoginRefused
from auth.tokens import TokenRefused, verify_token
from cli.supervisor_commands import render_csv
from cli.timeline import regulatory_line, render_question
from client.api import CaseNotFound, NotVisible
from console import dashboard, queue, views
from console.context import (
    CONSOLE_ROLES,
    SESSION_COOKIE,
    ConsoleContext,
    LoginNeeded,
    Session,
    acting_client,
    form_fields,
    same_origin,
    session_of,
)
from domain.actors import normalise_actor_id
from domain.cases import Category, Status
from domain.clock import format_local
from domain.masking import mask_msisdn
from domain.money import format_yuan
from domain.regulatory_clocks import regulatory_clocks

log = structlog.get_logger()
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
STATIC_FILES = {
    "htmx.min.js": "text/javascript",
    "htmx-LICENSE.txt": "text/plain",
    "console.css": "text/css",
}


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render a console template with `values`."""
    return templates.TemplateResponse(request, name, values, status_code=status_code)


def to_login(reason: str) -> RedirectResponse:
    """Send the browser to the login page, logging why."""
    log.info("console_login_needed", reason=reason)
    return RedirectResponse("/console/login", status_code=303)


def add_pages(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the console's pages (and its static files) to `router`."""
    @router.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return Response("not found", status_code=404)
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC_FILES[name],
                        headers={"Cache-Control": "max-age=3600"})

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/queue", status_code=303)

    @router.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        context = context_of(request)
        return render(request, "login.html", embedded=context.issuer is not None, error=None)

    @router.post("/login", response_model=None)
    async def login(request: Request) -> Response:
        context = context_of(request)
        fields = await form_fields(request)
        now = datetime.now(UTC)
        try:
            if fields.get("token"):
                token = fields["token"]
            elif context.issuer is not None and fields.get("user"):
                token, warning = context.issuer.login(
                    fields["user"], now, password=fields.get("password") or None, ttl=context.login_ttl
                )
                if warning:
                    log.warning("console_dev_login", user=normalise_actor_id(fields["user"]))
            else:
                raise LoginRefused("give a user id (and password) or a token")
            actor = verify_token(token, context.trusted_keys(), now)
            if not actor.has_role(*CONSOLE_ROLES):
                raise LoginRefused(f"{actor.subject} is {actor.role.value}: the console is for staff and auditors")
            response = RedirectResponse("/console/queue", status_code=303)
            response.set_cookie(
                SESSION_COOKIE, token, httponly=True, samesite="strict", path="/console",
                secure=request.url.scheme == "https", max_age=int(context.login_ttl.total_seconds()),
            )
            return response
        except (LoginRefused, TokenRefused, ValueError) as refusal:
            return render(request, "login.html", status_code=401, embedded=context.issuer is not None,
                          error=f"login refused: {refusal}")

    @router.post("/logout")
    async def logout(request: Request) -> RedirectResponse:
        response = RedirectResponse("/console/login", status_code=303)
        if same_origin(request):
            response.delete_cookie(SESSION_COOKIE, path="/console")
        return response

    @router.get("/queue", response_class=HTMLResponse, response_model=None)
    @router.get("/queue.csv", response_model=None)
    async def queue_page(request: Request, tab: str = "open", category: str = "", status: str = "",
                         assignee: str = "", phone: str = "", within: float = 0) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        client = acting_client(context, session)
        now = datetime.now(UTC)
        # "At risk" is due within N hours: the supervisor's N, else the deployment's.
        window = timedelta(hours=within) if 0 < within <= 24 * 30 else context.at_risk_window
        all_tabs = queue.tabs(window)
        chosen = next((t for t in all_tabs if t.key == tab), all_tabs[0])
        filters = queue.Filters(category=category, status=status, assignee=assignee, phone=phone)
        error = None
        try:
            counts = await queue.tab_counts(client, all_tabs, filters, now)
            rows = await queue.tab_rows(client, chosen, filters, now)
        except ValueError as bad:
            counts, rows, error = {}, [], f"filter not understood: {bad}"
        values: dict[str, Any] = dict(
            session=session, tabs=all_tabs, chosen=chosen, counts=counts, filters=filters, error=error,
            categories=[c.value for c in Category], statuses=[s.value for s in Status if s.is_open],
            rows=[(row, views.queue_badge(row, now, window), views.due_in(row, now)) for row in rows],
            within=round(window.total_seconds() / 3600, 2),
            refresh_seconds=context.refresh_seconds, refreshed=format_local(now)[11:],
        )
        if request.url.path.endswith(".csv"):  # `starter list --csv`: the tab's rows under the same filters
            return Response(render_csv(rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f"attachment; filename=queue-{chosen.key}.csv"})
        # htmx's timed refresh asks for the tabs and the table only, not the page around them.
        name = "queue_body.html" if request.headers.get("hx-target") == "queue-body" else "queue.html"
        return render(request, name, **values)

    @router.get("/cases/{complaint_id}", response_class=HTMLResponse, response_model=None)
    async def case_page(request: Request, complaint_id: str, done: str = "") -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        return await render_case(request, context, session, complaint_id, done=done)

    @router.get("/dashboard", response_class=HTMLResponse, response_model=None)
    async def dashboard_page(request: Request) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        figures = await dashboard.figures(context.pool)
        return render(request, "dashboard.html", session=session, figures=figures,
                      chart=dashboard.sla_chart(figures.sla))


async def render_case(
    request: Request, context: ConsoleContext, session: Session, complaint_id: str, *,
    done: str = "", refused: str = "", status_code: int = 200,
) -> HTMLResponse:
    """The case page: its state, clocks, money, actions, timeline, chain check and archived runs."""
    client = acting_client(context, session)
    try:
        view = await client.view(complaint_id)
    except (CaseNotFound, NotVisible) as missing:
        return render(request, "missing.html", status_code=404, session=session, message=str(missing))
    now = datetime.now(UTC)
    state = view.state
    try:
        report = await verify_case(context.pool, complaint_id, keys=context.payload_keys)
        chain = ("verified", f"chain verified: {report.events} events, {report.runs} archived runs")
        if not report.ok:
            chain = ("broken", "chain NOT verified: " + "; ".join(
                [f"seq {b.seq}: {b.problem}" for b in report.breaks]
                + [f"run {p.run_id}: {p.problem}" for p in report.archive_problems]))
    except UnknownCase:
        chain = ("pending", "not in the event store yet")
    runs = await PostgresArchiveStore(context.pool).runs(complaint_id)
    waiting = [a for a in state.adjustments.values() if a.needs_approval and a.status == "proposed"]
    filer = normalise_actor_id(state.filed_by.id)
    return render(
        request, "case.html", status_code=status_code,
        session=session, state=state, masked_msisdn=mask_msisdn(state.msisdn),
        due=format_local(state.sla_due_at) if state.sla_due_at else "-",
        money_moved=format_yuan(state.money_moved_fen), clocks=views.clock_bars(state, view.timeline, now),
        adjustments=[(a, format_yuan(a.amount_fen)) for a in state.adjustments.values()], waiting=waiting,
        own_case=filer == normalise_actor_id(session.actor.subject),
        entries=views.timeline_entries(view.timeline), chain=chain, runs=runs,
        question_lines=[line.strip() for line in render_question(state, now).splitlines()[1:]],
        regulatory=[(clock, regulatory_line(clock)) for clock in regulatory_clocks(state, view.timeline)],
        done=done, refused=refused, statuses_open=state.is_open,
    )
