"""Supervisor commands: list stalled and at-risk cases, reassign a case."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cli.connect import BadInput
from cli.login import acting_client, as_option
from client.api import CaseSummary
from client.queries import CaseFilter
from client.tokens import msisdn_token
from domain.cases import Category, Status
from domain.clock import format_local
from domain.errors import InvalidMsisdn
from domain.msisdn import parse_msisdn
from runtime.settings import Settings
from workflows.messages import Reassignment


def _time_left(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "-"
    seconds = int((due - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60}h{minutes % 60:02d}m"


def render_cases(rows: list[CaseSummary], now: datetime) -> str:
    """The cases as a table for the terminal, with the time left to each SLA deadline."""
    header = (f"{'case':<36} {'category':<19} {'status':<18} {'prio':<7} {'assignee':<18} "
              f"{'esc':>3}  {'SLA due (Shanghai)':<19} {'left':>8}")
    lines = [header, "-" * len(header)]
    for row in rows:
        due = format_local(row.sla_due_at) if row.sla_due_at else "-"
        lines.append(
            f"{row.complaint_id:<36} {row.category or '-':<19} {row.status or '-':<18} {row.priority or '-':<7} "
            f"{row.assignee or '-':<18} {row.escalation_level:>3}  {due:<19} {_time_left(row.sla_due_at, now):>8}"
        )
    lines.append(f"{len(rows)} case(s)")
    return "\n".join(lines)


def _as_json(row: CaseSummary) -> dict[str, Any]:
    return {
        "complaint_id": row.complaint_id,
        "category": row.category,
        "priority": row.priority,
        "status": row.status,
        "assignee": row.assignee,
        "escalation_level": row.escalation_level,
        "sla_due_at": row.sla_due_at.isoformat() if row.sla_due_at else None,
    }


_COLUMNS = ["complaint_id", "category", "priority", "status", "assignee", "escalation_level", "sla_due_at"]


def render_csv(rows: list[CaseSummary]) -> str:
    """The list as CSV with a header row; times in UTC (ISO 8601), empty cells for missing values."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in _as_json(row).items()})
    return out.getvalue().rstrip("\n")


async def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """`starter list`: open cases, soonest SLA deadline first (Temporal visibility)."""
    now = datetime.now(UTC)
    if args.json and args.csv:
        raise BadInput("list: --json or --csv, not both")
    # The number itself never leaves this process: visibility only holds its keyed token.
    token = None
    if args.msisdn is not None:
        try:
            token = msisdn_token(settings.msisdn_token_key, parse_msisdn(args.msisdn))
        except InvalidMsisdn as error:
            raise BadInput(f"--msisdn: {error}") from None
    case_filter = CaseFilter(
        stalled=args.stalled,
        at_risk=args.at_risk,
        escalated=args.escalated,
        category=args.category,
        status=args.status,
        assignee=args.assignee,
        include_closed=args.all or token is not None,
        msisdn_token=token,
        at_risk_window=timedelta(minutes=args.within),
    )
    # visibility answers without a worker; a customer's login lists only that customer's cases
    client, _ = await acting_client(settings, args, needs_worker=False)
    rows = await client.list_cases(case_filter, now=now, limit=args.limit)
    if args.json:
        print(json.dumps([_as_json(row) for row in rows], ensure_ascii=False, indent=2))
    elif args.csv:
        print(render_csv(rows))
    else:
        print(render_cases(rows, now))
    return 0


async def cmd_reassign(args: argparse.Namespace, settings: Settings) -> int:
    """`starter reassign`: hand a case to another assignee."""
    Reassignment(to_assignee=args.to, reason=args.reason)  # bad input exits 2 before anything is sent
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    to = await client.reassign(args.complaint_id, args.to, reason=args.reason)
    print(f"{args.complaint_id}: now assigned to {to}")
    return 0


def register(command: Any) -> None:
    """Add the supervisor's commands to the starter's parser."""
    listing = command("list", cmd_list, "list open cases, soonest SLA deadline first (Temporal visibility)")
    listing.add_argument("--stalled", action="store_true", help="past their SLA deadline")
    listing.add_argument("--at-risk", action="store_true", help="due within --within minutes")
    listing.add_argument("--within", type=int, default=60, metavar="MIN", help="at-risk window (default 60)")
    listing.add_argument("--escalated", action="store_true", help="escalated at least once")
    listing.add_argument("--category", type=Category, choices=list(Category), metavar="CATEGORY",
                         help=", ".join(c.value for c in Category))
    listing.add_argument("--status", type=Status, choices=list(Status), metavar="STATUS",
                         help=", ".join(s.value for s in Status))
    listing.add_argument("--assignee", help="cases assigned to this person")
    listing.add_argument("--msisdn", metavar="NUMBER",
                         help="every case (closed ones too) of this customer's number, found through its keyed "
                         "search token; written like `file --msisdn`")
    listing.add_argument("--all", action="store_true", help="include closed cases")
    listing.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--csv", action="store_true", help="CSV with a header row (times in UTC)")
    as_option(listing)

    reassign = command("reassign", cmd_reassign, "move a case (and its SLA clock owner) to another person")
    reassign.add_argument("complaint_id")
    reassign.add_argument("--to", required=True, help="the new assignee (up to 64 characters)")
    reassign.add_argument("--reason", default="", help="why (up to 500 characters)")
    as_option(reassign)
