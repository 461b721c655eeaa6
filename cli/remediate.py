"""`starter remediate`: turn one bad batch adjustment into a linked, audited case per harmed number.

starter remediate --batch B-DRINKS-CLAWBACK --dry-run     the plan: numbers, remedies, money and validity
starter remediate --batch B-DRINKS-CLAWBACK               start the campaign (a supervisor's login) and watch it
starter remediate --status B-DRINKS-CLAWBACK              its progress and its cases by status
starter remediate --batch B-DRINKS-CLAWBACK --pause --reason "..."   (and --resume)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from temporalio.client import WorkflowFailureError, WorkflowHandle

from activities.remediation import SUPERVISING_ROLES
from cli.connect import QUERY_TIMEOUT, BadInput, CliError, client_options, database
from cli.login import acting_client, as_option
from client.remediation import RemediationClient, UnknownBatch, batch_plan, case_counts, progress_bar
from domain.actors import ActorChannel
from domain.clock import local_day
from domain.errors import InvalidCommand
from domain.remediation import campaign_id, check_batch_id
from runtime.settings import Settings
from workflows.remediation_campaign import CampaignProgress

WATCH_SECONDS = 1.0


def _batch(args: argparse.Namespace) -> str:
    batch = args.status if isinstance(args.status, str) and args.status else args.batch
    if not batch:
        raise BadInput("remediate: name the batch (--batch B, or --status B)")
    try:
        return check_batch_id(batch)
    except InvalidCommand as error:
        raise BadInput(str(error)) from None


async def cmd_remediate(args: argparse.Namespace, settings: Settings) -> int:
    """`starter remediate`: start, dry-run, pause, resume or show a batch's remediation campaign."""
    batch_id = _batch(args)
    if sum(bool(x) for x in (args.dry_run, args.status is not None, args.pause, args.resume)) > 1:
        raise BadInput("remediate: one of --dry-run, --status, --pause, --resume at a time")
    if args.dry_run:
        async with database(settings) as pool:
            try:
                summary = await batch_plan(pool, batch_id, local_day(datetime.now(UTC)))
            except UnknownBatch as error:
                raise BadInput(str(error)) from None
        print(summary.render())
        print("dry run: nothing was opened")
        return 0
    client, login = await acting_client(settings, args, needs_worker=args.status is None)
    campaigns = RemediationClient(client.temporal, task_queue=client_options(settings).task_queue,
                                  channel=ActorChannel.CLI, query_timeout=QUERY_TIMEOUT)
    if args.status is not None:
        progress = await campaigns.status(batch_id)
        await _print_status(settings, batch_id, progress)
        return 0
    if args.pause or args.resume:
        act = campaigns.pause if args.pause else campaigns.resume
        progress = await act(batch_id, login.token, args.reason)
        print(f"{campaign_id(batch_id)}: {'paused' if progress.paused else 'resumed'}")
        print(progress_bar(progress))
        return 0
    if login.actor.role not in SUPERVISING_ROLES:
        # Said here, before anything starts; the campaign's first step checks the token again itself.
        raise CliError(f"a {login.actor.role.value} cannot start a remediation campaign: a supervisor can")
    handle = await campaigns.start(batch_id, login.token, cases_per_minute=args.rate, page_size=args.page_size)
    print(f"{handle.id}: running (run {handle.result_run_id}), at most {args.rate} cases a minute")
    if args.no_wait:
        return 0
    await _watch(campaigns, batch_id, handle)
    return 0


async def _watch(
    campaigns: RemediationClient, batch_id: str, handle: WorkflowHandle[Any, CampaignProgress]
) -> None:
    """A progress bar until the campaign ends (Ctrl-C stops watching, not the campaign)."""
    tty = sys.stdout.isatty()
    last = ""
    ended = asyncio.ensure_future(handle.result())
    try:
        while not ended.done():
            line = progress_bar(await campaigns.status(batch_id))
            if line != last:
                print(f"\r{line}", end="", flush=True) if tty else print(line, flush=True)
                last = line
            await asyncio.wait([ended], timeout=WATCH_SECONDS)
        try:
            progress = ended.result()
        except WorkflowFailureError as failure:
            cause = failure.cause
            while cause.__cause__ is not None:  # the activity's own refusal, under its ActivityError
                cause = cause.__cause__  # type: ignore[assignment]
            raise CliError(f"the campaign of batch {batch_id} stopped: {getattr(cause, 'message', cause)}") from None
    finally:
        ended.cancel()
        if tty:
            print()
    print(progress_bar(progress))
    print(f"opened {progress.opened} case(s), {progress.already_open} found open already")


async def _print_status(settings: Settings, batch_id: str, progress: CampaignProgress) -> None:
    print(progress_bar(progress))
    print(f"  started by {progress.started_by or '-'}, run {progress.runs}, harmed {progress.harmed}, "
          f"unaffected {dict(sorted(progress.unaffected.items())) or '-'}")
    if progress.paused:
        print(f"  paused by {progress.paused_by}: {progress.pause_reason or 'no reason given'}")
    async with database(settings) as pool:
        counts = await case_counts(pool, batch_id)
    print("  cases by status: " + (", ".join(f"{status} {n}" for status, n in counts.items()) or "none yet"))


def register(command: Any) -> None:
    """Add the remediate command to the starter's parser."""
    remediate = command("remediate", cmd_remediate,
                        "remediate one bad batch adjustment: a linked case per harmed number (a campaign)")
    remediate.add_argument("--batch", metavar="B", help="the batch adjustment's id, e.g. B-DRINKS-CLAWBACK")
    remediate.add_argument("--dry-run", action="store_true",
                           help="print the plan (numbers, remedies, money and validity) and open nothing")
    remediate.add_argument("--status", nargs="?", const="", metavar="B",
                           help="the campaign's progress and its cases by status")
    remediate.add_argument("--pause", action="store_true", help="pause the campaign (a supervisor's login)")
    remediate.add_argument("--resume", action="store_true", help="resume a paused campaign")
    remediate.add_argument("--reason", default="", help="why it is paused or resumed (up to 500 characters)")
    remediate.add_argument("--rate", type=int, default=600, metavar="N",
                           help="start at most N cases a minute (default 600)")
    remediate.add_argument("--page-size", type=int, default=50, metavar="N",
                           help="numbers read and assessed at a time (default 50)")
    remediate.add_argument("--no-wait", action="store_true", help="start it and return; watch with --status")
    as_option(remediate)
