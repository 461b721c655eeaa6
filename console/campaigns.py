"""Remediation campaigns' progress (`starter remediate --status` in the browser); a supervisor's pause/resume.

Everything goes through client/remediation.py: the progress is the campaign's own query, the cases by status
the read model's count, and pause or resume the campaign's update carrying the session's token, which the
campaign checks itself (the console only hides the buttons from others).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from temporalio.service import RPCError

from activities.remediation import SUPERVISING_ROLES
from client.api import CaseNotFound, CommandRefused
from client.remediation import RemediationClient, case_counts, progress_bar
from console.context import ConsoleContext, LoginNeeded, Session, form_fields, same_origin, session_of
from console.pages import render, to_login
from domain.actors import ActorChannel
from domain.clock import format_local
from domain.errors import InvalidCommand
from domain.remediation import check_batch_id
from workflows.remediation_campaign import CampaignProgress

log = structlog.get_logger()
# A campaign whose worker is away must not hold the page: its row says so instead.
STATUS_TIMEOUT = timedelta(seconds=3)


@dataclass(frozen=True)
class CampaignRow:
    """One campaign as the page shows it: the CLI's progress bar line, its details and its cases by status."""

    batch_id: str
    progress: CampaignProgress | None
    bar: str
    counts: dict[str, int]
    problem: str | None = None

    @property
    def state(self) -> str:
        """The campaign's state in a word: running, paused, done, or unknown when it did not answer."""
        if self.progress is None:
            return "unknown"
        return "done" if self.progress.done else ("paused" if self.progress.paused else "running")

    @property
    def percent(self) -> int:
        """How much of the batch has been assessed, in whole percent (0 before the first page)."""
        p = self.progress
        return 100 * p.assessed // p.numbers if p is not None and p.numbers else 0


def campaigns_client(context: ConsoleContext) -> RemediationClient:
    """A remediation client acting from the web channel, with the console's short query timeout."""
    return RemediationClient(context.client.temporal, task_queue=context.client.options.task_queue,
                             channel=ActorChannel.WEB, query_timeout=STATUS_TIMEOUT)


async def campaign_row(context: ConsoleContext, batch_id: str) -> CampaignRow:
    """One campaign's row: its progress from the campaign and its cases by status from the read model."""
    counts = await case_counts(context.pool, batch_id)
    try:
        progress = await campaigns_client(context).status(batch_id)
    except (CaseNotFound, RPCError) as problem:
        return CampaignRow(batch_id, None, "progress not available", counts, problem=str(problem))
    return CampaignRow(batch_id, progress, progress_bar(progress), counts)


def may_supervise(session: Session) -> bool:
    """Whether the session may pause or resume a campaign (the campaign checks the token again)."""
    return session.actor.has_role(*SUPERVISING_ROLES)


def add_campaigns(router: APIRouter, context_of: Callable[[Request], ConsoleContext]) -> None:
    """Add the campaign list and campaign pages, with pause and resume, to the console router."""
    async def page(request: Request, batch: str | None, *, done: str = "", refused: str = "",
                   status_code: int = 200) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        if batch is None:
            batches = await campaigns_client(context).batches()
        else:
            try:
                batches = [check_batch_id(batch)]
            except InvalidCommand as bad:
                return Response(str(bad), status_code=404)
        rows = [await campaign_row(context, b) for b in batches]
        if batch is not None and rows[0].progress is None and not rows[0].counts:
            return render(request, "missing.html", status_code=404, session=session,
                          message=f"no campaign for batch {batch}")
        values = dict(session=session, rows=rows, single=batch, done=done, refused=refused,
                      may_supervise=may_supervise(session), refresh_seconds=context.refresh_seconds,
                      refreshed=format_local(datetime.now(UTC))[11:])
        name = "campaigns_body.html" if request.headers.get("hx-target") == "campaigns-body" else "campaigns.html"
        return render(request, name, status_code=status_code, **values)

    @router.get("/campaigns", response_class=HTMLResponse, response_model=None)
    async def campaigns_page(request: Request) -> Response:
        return await page(request, None)

    @router.get("/campaigns/{batch}", response_class=HTMLResponse, response_model=None)
    async def campaign_page(request: Request, batch: str, done: str = "") -> Response:
        return await page(request, batch, done=done)

    @router.post("/campaigns/{batch}/{act}", response_model=None)
    async def control(request: Request, batch: str, act: str) -> Response:
        context = context_of(request)
        try:
            session = session_of(request, context)
        except LoginNeeded as needed:
            return to_login(str(needed))
        if act not in ("pause", "resume"):
            return Response("no such act", status_code=404)
        if not same_origin(request):
            return Response("cross-site request refused", status_code=403)
        reason = (await form_fields(request)).get("reason", "")
        campaigns = campaigns_client(context)
        try:
            move = campaigns.pause if act == "pause" else campaigns.resume
            progress = await move(batch, session.token, reason)
        except (CommandRefused, CaseNotFound, InvalidCommand, RPCError) as refusal:
            log.info("console_campaign_refused", act=act, batch=batch, actor=session.actor.subject)
            return await page(request, batch, refused=f"{act} refused: {refusal}", status_code=403)
        log.info("console_campaign", act=act, batch=batch, actor=session.actor.subject)
        done = f"{'paused' if progress.paused else 'resumed'} the campaign of {batch}"
        return RedirectResponse(f"/console/campaigns/{quote(batch)}?done={quote(done)}", status_code=303)
