"""`starter sla policies | what-if | repair | report`: the SLA over the stored event histories.

Only `repair --apply` changes anything, and only through each case's workflow (an `SlaRecalculated`
event with the reason and the actor). What-if replays histories under another policy in memory
(domain/sla_replay.py); the report folds them as recorded. For staff (supervisors, managers, auditors).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from cli.connect import BadInput, CliError, database
from cli.login import acting_client, as_option, logged_in
from client.api import NotVisible
from domain.actors import Role
from domain.cases import Category
from domain.clock import format_local, local_midnight
from domain.policy import Policy
from domain.sla_repair import recalculation
from domain.sla_replay import fold_sla, replay, what_if
from domain.sla_report import compliance
from runtime.policy import PolicySource, read_policy_file
from runtime.settings import ConfigError, Settings
from store.pii import PersonalDataVault
from store.sla_history import load_sla_histories

READERS = frozenset({Role.SUPERVISOR, Role.REGIONAL_SUPPORT, Role.STORE_MANAGER, Role.AUDITOR})


async def _check_reader(settings: Settings, args: argparse.Namespace) -> None:
    reader = (await logged_in(settings, args.actor)).actor
    if reader.role not in READERS:
        raise NotVisible("SLA reports are for supervisors, managers and auditors")


def _vault(settings: Settings) -> PersonalDataVault:
    try:
        return PersonalDataVault.from_settings(settings)
    except ConfigError as error:
        raise BadInput(str(error)) from None


def _hours(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 3600:.1f}h"


def _hours_number(value: timedelta | None) -> float | None:
    return None if value is None else round(value / timedelta(hours=1), 2)


async def _histories(pool: asyncpg.Pool, settings: Settings, args: argparse.Namespace) -> list[Any]:
    since = local_midnight(args.since) if args.since else None
    return await load_sla_histories(pool, _vault(settings), since=since, category=args.category)


POLICY_COUNTS = """
SELECT coalesce(f.payload->'policy'->>'version', 'legacy') AS version,
       count(*) AS cases,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM complaint_events c
            WHERE c.complaint_id = f.complaint_id AND c.type IN ('ComplaintClosed', 'ComplaintRejected')
              AND c.seq > coalesce((SELECT max(r.seq) FROM complaint_events r
                                     WHERE r.complaint_id = f.complaint_id AND r.type = 'ComplaintReopened'), 0)
       )) AS open_cases,
       min(f.occurred_at) AS first_filed, max(f.occurred_at) AS last_filed
  FROM complaint_events f
 WHERE f.seq = 1 AND f.type = 'ComplaintFiled'
 GROUP BY 1 ORDER BY min(f.occurred_at)
"""


async def cmd_sla_policies(args: argparse.Namespace, settings: Settings) -> int:
    """`starter sla policies`: how many cases run on each SLA policy version."""
    await _check_reader(settings, args)
    async with database(settings) as pool:
        rows = await pool.fetch(POLICY_COUNTS)
    if args.json:
        print(json.dumps([{**dict(row), "first_filed": row["first_filed"].isoformat(),
                           "last_filed": row["last_filed"].isoformat()} for row in rows], indent=2))
        return 0
    print(f"{'version':<32} {'cases':>8} {'open':>8}")
    for row in rows:
        print(f"{row['version']:<32} {row['cases']:>8} {row['open_cases']:>8}")
    return 0


def _read_policy(path: Path) -> Policy:
    try:
        return read_policy_file(path)
    except ConfigError as error:
        raise BadInput(str(error).replace("COMPLAINTS_POLICY_FILE=", "--policy ")) from None


async def cmd_sla_what_if(args: argparse.Namespace, settings: Settings) -> int:
    """`starter sla what-if`: the SLA outcomes the cases would have had under another policy."""
    await _check_reader(settings, args)
    policy = _read_policy(args.policy)
    async with database(settings) as pool:
        histories = await _histories(pool, settings, args)
    rows, flips = what_if(histories, policy, datetime.now(UTC))
    if args.json:
        print(json.dumps({
            "policy": policy.version,
            "categories": [{"category": r.category.value, "cases": r.cases, "warned_before": r.warned_before,
                            "warned_after": r.warned_after, "breached_before": r.breached_before,
                            "breached_after": r.breached_after,
                            "compliance_change_points": round(r.compliance_change_points, 2)} for r in rows],
            "flips": [{"complaint_id": f.complaint_id, "category": f.category.value, "before": f.before,
                       "after": f.after} for f in flips],
        }, indent=2))
        return 0
    print(f"what if policy {policy.version} had applied (nothing is changed)")
    print(f"{'category':<20} {'cases':>6} {'warned':>13} {'breached':>13} {'compliance':>11}")
    for r in rows:
        print(f"{r.category.value:<20} {r.cases:>6} {r.warned_before:>6}->{r.warned_after:<6} "
              f"{r.breached_before:>6}->{r.breached_after:<6} {r.compliance_change_points:>+10.1f}pp")
    if flips:
        print("\ncases that flip:")
        for f in flips:
            print(f"  {f.complaint_id} ({f.category.value}): {f.before} -> {f.after}")
    return 0


async def cmd_sla_report(args: argparse.Namespace, settings: Settings) -> int:
    """`starter sla report`: SLA compliance of the cases, grouped as asked."""
    await _check_reader(settings, args)
    async with database(settings) as pool:
        histories = await _histories(pool, settings, args)
    outcomes = [outcome for events in histories if (outcome := replay(events)) is not None]
    rows = compliance(outcomes, args.by, datetime.now(UTC))
    records = [
        {args.by: r.group, "cases": r.cases, "met": r.met, "breached": r.breached,
         "met_percent": round(r.met_percent, 1), "breached_percent": round(r.breached_percent, 1),
         "mean_hours_to_resolve": _hours_number(r.mean_to_resolve),
         "p90_hours_to_resolve": _hours_number(r.p90_to_resolve)}
        for r in rows
    ]
    if args.json:
        print(json.dumps(records, indent=2))
    elif args.csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [args.by])
        writer.writeheader()
        writer.writerows(records)
        print(out.getvalue(), end="")
    else:
        print(f"{args.by:<20} {'cases':>6} {'met':>6} {'met%':>6} {'breached':>9} {'mean':>8} {'p90':>8}"
              "  (time to resolve in business hours)")
        for r in rows:
            print(f"{r.group:<20} {r.cases:>6} {r.met:>6} {r.met_percent:>5.1f}% {r.breached:>9} "
                  f"{_hours(r.mean_to_resolve):>8} {_hours(r.p90_to_resolve):>8}")
    return 0


async def cmd_sla_repair(args: argparse.Namespace, settings: Settings) -> int:
    """List (--dry-run) or have each open case record (--apply) the deadlines the corrected days give."""
    if args.apply == args.dry_run:
        raise BadInput("say --dry-run or --apply")
    if args.apply and not args.reason.strip():
        raise BadInput("--apply needs --reason: it is recorded on every case it changes")
    await _check_reader(settings, args)
    try:
        days = PolicySource(settings).current().calendar_days
    except ConfigError as error:
        raise BadInput(str(error)) from None
    async with database(settings) as pool:
        histories = await load_sla_histories(pool, _vault(settings))
    changes = [
        change for events in histories
        if (state := fold_sla(events)) is not None and (change := recalculation(state, days)) is not None
    ]
    client = (await acting_client(settings, args))[0] if args.apply and changes else None
    for change in changes:
        before = format_local(change.due_before) if change.due_before else "-"
        after = format_local(change.due_after) if change.due_after else "-"
        outcome = await client.repair_sla(change.complaint_id, args.reason) if client else "would change"
        print(f"{change.complaint_id}: due {before} -> {after} ({outcome})")
    print(f"{len(changes)} open case(s) {'recalculated' if args.apply else 'would be recalculated'}")
    return 0


async def cmd_sla(args: argparse.Namespace, settings: Settings) -> int:
    """`starter sla` alone: ask for one of its subcommands."""
    raise CliError("name an sla command: policies, what-if, repair or report (see `starter sla --help`)")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=date.fromisoformat, metavar="DATE",
                        help="cases filed on or after this day (YYYY-MM-DD, Asia/Shanghai)")
    parser.add_argument("--category", type=Category, choices=list(Category), metavar="CATEGORY",
                        help=", ".join(c.value for c in Category))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    as_option(parser)


def register(command: Any) -> None:
    """Add the sla command and its subcommands to the starter's parser."""
    sla = command("sla", cmd_sla, "SLA policies in use, what-if under another policy, repair, compliance report")
    subcommands = sla.add_subparsers(dest="sla_command", metavar="SLA_COMMAND")
    policies = subcommands.add_parser("policies", help="policy versions and how many cases run under each")
    policies.set_defaults(handler=cmd_sla_policies)
    policies.add_argument("--json", action="store_true", help="machine-readable output")
    as_option(policies)
    whatif = subcommands.add_parser("what-if", help="replay stored histories under another policy; changes nothing")
    whatif.set_defaults(handler=cmd_sla_what_if)
    whatif.add_argument("--policy", type=Path, required=True, metavar="FILE", help="a policy file (JSON)")
    _filters(whatif)
    repair = subcommands.add_parser(
        "repair", help="recompute open cases' deadlines on corrected calendar days (records SlaRecalculated)"
    )
    repair.set_defaults(handler=cmd_sla_repair)
    repair.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    repair.add_argument("--apply", action="store_true", help="have each case record the change")
    repair.add_argument("--reason", default="", help="why (recorded on each case; needed with --apply)")
    as_option(repair)
    report = subcommands.add_parser("report", help="met and breached, and business time to resolve")
    report.set_defaults(handler=cmd_sla_report)
    report.add_argument("--by", choices=["category", "priority", "week"], default="category")
    report.add_argument("--csv", action="store_true", help="CSV with a header row")
    _filters(report)
