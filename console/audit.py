"""The console's audit page (`starter verify`) and a case's raw Temporal history (`starter history --raw`).

The audit page recomputes the hash chains and archived histories (`--all`, or one case with `--deep`, which
also fetches every cited billing record again), with the same verdict and problem lines as the CLI
(cli.audit_commands). Read-only, so a GET; staff and auditors may run it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from audit.archive_store import PostgresArchiveStore
from audit.temporal_history import render_run
from audit.verify import UnknownCase, verify_all, verify_case
from cli.audit_commands import problem_lines, verify_verdict
from console.context import ConsoleContext, LoginNeeded, same_origin, session_of
from console.pages import render, to_login
from store.event_store import PostgresEventStore
from store.projections import rebuild_projections

log = structlog.get_logger()


def add_audit(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the audit page (chain and archive checks) and the raw history page to the console router."""
    @router.get("/audit", response_class=HTMLResponse, response_model=None)
    async def audit_page(request: Request, case: str = "", deep: bool = False, run: bool = False,
                         done: str = "") -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        verdict, problems, error = None, [], None
        if run:
            try:
                report = (await verify_case(context.pool, case.strip(), deep=deep, keys=context.payload_keys)
                          if case.strip() else
                          await verify_all(context.pool, deep=deep, keys=context.payload_keys))
                verdict, problems = verify_verdict(report, deep=deep), problem_lines(report)
            except UnknownCase as missing:
                error = str(missing)
        return render(request, "audit.html", status_code=404 if error else 200, session=session, case=case,
                      deep=deep, verdict=verdict, problems=problems, error=error, done=done)

    @router.post("/audit/rebuild-projections", response_model=None)
    async def rebuild(request: Request) -> Response:
        """`starter rebuild-projections`: the read models folded again from the events (a supervisor's act)."""
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        if not same_origin(request):
            return Response("cross-site request refused", status_code=403)
        if not session.may_approve:
            return Response(f"{session.actor.subject} is {session.actor.role.value}: a supervisor rebuilds the "
                            "read models", status_code=403)
        store = context.store or PostgresEventStore(context.pool)
        cases = await rebuild_projections(context.pool, store.vault)
        log.info("console_rebuilt_projections", cases=cases, actor=session.actor.subject)
        said = f"rebuilt the read model (complaints) from the event store: {cases} case(s)"
        return RedirectResponse(f"/console/audit?done={quote(said)}", status_code=303)

    @router.get("/cases/{complaint_id}/history.txt", response_model=None)
    async def raw_history(request: Request, complaint_id: str) -> Response:
        """`starter history --raw`: the case's archived Temporal runs, one line per history event."""
        context = context_of(request)
        try:
            session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        runs = await PostgresArchiveStore(context.pool).runs(complaint_id, with_history=True)
        if not runs:
            return PlainTextResponse(f"no archived Temporal history for case {complaint_id}: "
                                     "a case's runs are archived when it closes", status_code=404)
        head = f"Temporal history of case {complaint_id}, archived in PostgreSQL (times Asia/Shanghai)"
        return PlainTextResponse("\n\n".join([head, *(render_run(run) for run in runs)]) + "\n")
