"""Audit commands: history, export, verify, rebuild-projections, show --as-of, and erase.

They read PostgreSQL only (the event store and the archive of Temporal histories), so they keep
working for cases Temporal has long forgotten, and they never need the engine to be running.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.billing import PostgresBillingSystem
from adapters.partner_carriers import HttpPartnerCarriers
from audit.archive_store import ArchivedRun, PostgresArchiveStore
from audit.export import build_bundle
from audit.reconcile import reconcile
from audit.temporal_history import render_run
from audit.verify import UnknownCase, VerifyReport, verify_all, verify_case
from audit.visibility import PII_READ
from auth.tokens import VerifiedActor
from cli.audit_common import _audit_database, _local, _payload_keys, _vault, parse_time
from cli.connect import BadInput, CliError, EngineUnreachable
from cli.erase_command import DEFAULT_ERASE_REASON, cmd_erase
from cli.login import as_option, logged_in
from cli.timeline import render_state, render_timeline
from client.api import NotVisible, check_visible
from domain import events as ev
from domain.actors import Role
from domain.masking import scrub
from domain.money import format_yuan
from domain.state import fold
from ports.partners import PartnerError
from runtime.settings import Settings
from store.event_store import PostgresEventStore
from store.projections import rebuild_projections

# More lines than this of problems would drown the summary; the first ones name where to look.
MAX_PROBLEMS_SHOWN = 50


# --- timeline --------------------------------------------------------------------------------


def _fact(key: str, value: Any) -> str:
    if key.endswith("_fen") and isinstance(value, int) and not isinstance(value, bool):
        return f"{key.removesuffix('_fen')}={format_yuan(value)}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return f"{key}={text}"


def render_history(events: Iterable[ev.Event]) -> str:
    """The timeline in business words, with the facts each evidence step found under it (masked)."""
    lines = []
    for event in events:
        lines.append(render_timeline([event]))
        if isinstance(event, ev.EvidenceRecorded) and event.facts:
            facts = "; ".join(_fact(key, value) for key, value in event.facts.items())
            lines.append(f"{'':>7}facts: {scrub(facts)}")
    return "\n".join(lines)


# --- handlers --------------------------------------------------------------------------------


def _check_reader(reader: VerifiedActor, complaint_id: str, events: list[ev.Event]) -> None:
    """A customer's login reads only that customer's cases (client.api.check_visible)."""
    filed = events[0] if events else None
    if isinstance(filed, ev.ComplaintFiled):
        check_visible(reader, complaint_id, filed.msisdn)
    elif reader.role is Role.CUSTOMER:
        raise NotVisible(f"case {complaint_id} is not a case of {reader.subject}")


async def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    reader = (await logged_in(settings, args.actor)).actor
    if args.raw and reader.role is Role.CUSTOMER:
        raise NotVisible("the raw Temporal history is for staff and auditors")
    async with _audit_database(settings) as pool:
        if args.raw:
            runs = await PostgresArchiveStore(pool).runs(args.complaint_id, with_history=True)
            if not runs:
                raise CliError(
                    f"no archived Temporal history for case {args.complaint_id}: "
                    "a case's runs are archived when it closes"
                )
            print(f"Temporal history of case {args.complaint_id}, archived in PostgreSQL (times Asia/Shanghai)")
            for run in runs:
                print()
                print(render_run(run))
            return 0

        vault = _vault(settings)
        events = await PostgresEventStore(pool, vault).load(args.complaint_id)
        if not events:
            raise CliError(f"no case {args.complaint_id} in the event store")
        _check_reader(reader, args.complaint_id, list(events))
        report = await verify_case(pool, args.complaint_id, vault=vault, keys=_payload_keys(settings))
        runs = await PostgresArchiveStore(pool).runs(args.complaint_id)
    state = fold(events)
    assert state is not None
    if args.json:
        print(json.dumps(
            {
                "state": state.model_dump(mode="json"),
                "timeline": [event.model_dump(mode="json") for event in events],
                "verification": _report_json(report),
                "temporal_runs": [_run_json(run) for run in runs],
            },
            ensure_ascii=False,
            indent=2,
        ))
        return 0
    print(render_state(state))
    print()
    print("Timeline (Asia/Shanghai):")
    print(render_history(events))
    print()
    if report.ok:
        print(f"Hash chain intact: {report.events} events, head at event {events[-1].seq}.")
    else:
        for line in problem_lines(report):
            print(line)
    if runs:
        print(f"Temporal runs archived: {len(runs)} (`history {args.complaint_id} --raw` prints them)")
        for run in runs:
            print(
                f"  run {run.run_id}  {run.status}  {_local(run.started_at)} to {_local(run.closed_at)}  "
                f"{run.history_length} history events"
            )
    else:
        print("Temporal runs archived: none yet (a case's runs are archived when it closes)")
    return 0


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    reader = (await logged_in(settings, args.actor)).actor
    if reader.role is Role.CUSTOMER:
        raise NotVisible("an audit export is for staff and auditors")
    # Personal data in clear only for a token with the scope for it; everyone else gets it masked.
    clear = reader.has_scope(PII_READ) and not args.masked
    async with _audit_database(settings) as pool:
        try:
            bundle = await build_bundle(
                pool, args.complaint_id, exported_at=datetime.now(UTC), vault=_vault(settings),
                personal_data="clear" if clear else "masked", keys=_payload_keys(settings),
            )
        except UnknownCase as error:
            raise CliError(str(error)) from None
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    if args.output is None:
        print(text)
        return 0
    path: Path = args.output
    # One small local file, written once at the end of the command: blocking here is harmless.
    path.write_text(text + "\n", encoding="utf-8")  # noqa: ASYNC240
    head = bundle["chain_head"]
    runs = bundle["temporal_runs"]
    print(
        f"exported case {args.complaint_id} to {path}: {len(bundle['events'])} events, "
        f"{len(runs)} Temporal run(s) ({sum(run['history_length'] for run in runs)} history events), "
        f"chain head event {head['seq']} {head['hash']}"
        + ("" if clear else f"; personal data masked (the login of {reader.subject} lacks the {PII_READ} scope)")
        + ("" if bundle["verification"]["intact"] else "  [VERIFICATION FAILED: see the bundle]")
    )
    return 0


def problem_lines(report: VerifyReport) -> list[str]:
    """The report's findings as the lines `verify` prints: broken links first, then the other problems."""
    lines = [f"BROKEN  case {b.complaint_id} at event {b.seq}: {b.problem}" for b in report.breaks]
    lines += [
        f"ARCHIVE case {p.complaint_id} run {p.run_id}: {p.problem}" for p in report.archive_problems
    ]
    lines += [
        f"EVIDENCE case {p.complaint_id} event {p.seq} ({p.adjustment_id}) cites {p.citation}: {p.problem}"
        for p in report.evidence_problems
    ]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        hidden = len(lines) - MAX_PROBLEMS_SHOWN
        lines = [*lines[:MAX_PROBLEMS_SHOWN], f"... and {hidden} more"]
    return lines


def _report_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "intact": report.ok,
        "cases": report.cases,
        "events": report.events,
        "runs": report.runs,
        "breaks": [dataclasses.asdict(chain_break) for chain_break in report.breaks],
        "archive_problems": [dataclasses.asdict(problem) for problem in report.archive_problems],
    }


def _run_json(run: ArchivedRun) -> dict[str, Any]:
    fields = dataclasses.asdict(run)
    fields.pop("history", None)
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in fields.items()}


def verify_totals(report: VerifyReport, *, deep: bool = False) -> str:
    totals = f"{report.cases:,} case(s), {report.events:,} event(s), {report.runs:,} archived Temporal run(s)"
    return totals + (f", {report.citations:,} cited billing record(s)" if deep else "")


async def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.complaint_id) == bool(args.all):
        raise BadInput("verify needs a case id or --all (not both)")
    interactive = sys.stderr.isatty()

    def progress(report: VerifyReport) -> None:
        print(f"verifying... {verify_totals(report)} so far", file=sys.stderr, end="\r" if interactive else "\n",
              flush=True)

    async with _audit_database(settings) as pool:
        if args.all:
            report = await verify_all(
                pool, deep=args.deep, progress=progress, vault=_vault(settings), keys=_payload_keys(settings)
            )
            if interactive:
                print(file=sys.stderr)
        else:
            try:
                report = await verify_case(
                    pool, args.complaint_id, deep=args.deep, vault=_vault(settings), keys=_payload_keys(settings)
                )
            except UnknownCase as error:
                raise CliError(str(error)) from None
    if args.json:
        print(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
        return 0 if report.ok else 1
    for line in problem_lines(report):
        print(line)
    print(verify_verdict(report, deep=args.deep))
    return 0 if report.ok else 1


def verify_verdict(report: VerifyReport, *, deep: bool = False) -> str:
    """The last line of `verify` (and the console's audit page): OK or FAILED, with what was checked."""
    totals = verify_totals(report, deep=deep)
    if report.ok:
        evidence = ", and every cited billing record still hashes as cited" if deep else ""
        return f"OK: checked {totals}: every hash chain holds and every archived history matches{evidence}"
    return (
        f"FAILED: checked {totals}: {len(report.breaks)} broken chain(s), "
        f"{len(report.archive_problems)} archive problem(s)"
        + (f", {len(report.evidence_problems)} cited record(s) gone or changed" if deep else "")
    )


def partner_url(settings: Settings) -> str:
    return settings.partner_url or f"http://127.0.0.1:{settings.partner_port}"


async def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    url = partner_url(settings)
    try:
        async with HttpPartnerCarriers(url) as partners:
            records = await partners.records()
    except PartnerError as error:
        raise EngineUnreachable(
            f"cannot read the partners' statement at {url} ({error}): start the engine with `./run up`, "
            "or check PARTNER_URL"
        ) from None
    async with _audit_database(settings) as pool:
        ledger = await PostgresBillingSystem(pool).ledger()
        report = await reconcile(PostgresEventStore(pool, _vault(settings)), ledger, records)
    lines = [m.line() for m in report.mismatches]
    if len(lines) > MAX_PROBLEMS_SHOWN:
        lines = [*lines[:MAX_PROBLEMS_SHOWN], f"... and {len(lines) - MAX_PROBLEMS_SHOWN} more"]
    for line in lines:
        print(line)
    totals = (
        f"{report.ledger_rows} ledger row(s) against {report.applied_events} AdjustmentApplied event(s), "
        f"{report.partner_records} partner record(s) against {report.confirmed_events} PartnerRequestConfirmed "
        "event(s)"
    )
    if report.ok:
        print(f"OK: {totals}: they match")
        return 0
    print(f"FAILED: {totals}: {len(report.mismatches)} mismatch(es)")
    return 1


async def cmd_rebuild_projections(args: argparse.Namespace, settings: Settings) -> int:
    async with _audit_database(settings) as pool:
        cases = await rebuild_projections(pool, _vault(settings))
    print(f"rebuilt the read model (complaints) from the event store: {cases} case(s)")
    return 0


async def show_as_of(
    settings: Settings, complaint_id: str, as_of: datetime, *, reader: VerifiedActor, as_json: bool = False
) -> int:
    """Print the case as it stood at `as_of`: its state and timeline folded from the events up to then."""
    async with _audit_database(settings) as pool:
        store = PostgresEventStore(pool, _vault(settings))
        events = await store.load(complaint_id, until=as_of)
        _check_reader(reader, complaint_id, list(events))
        total = await store.event_count(complaint_id)
    if not events:
        if total:
            raise CliError(f"case {complaint_id} had not been filed yet at {_local(as_of)} (Asia/Shanghai)")
        raise CliError(f"no case {complaint_id} in the event store")
    state = fold(events)
    assert state is not None
    if as_json:
        print(json.dumps(
            {
                "complaint_id": complaint_id,
                "as_of": as_of.isoformat(),
                "events_included": len(events),
                "events_total": total,
                "state": state.model_dump(mode="json"),
                "timeline": [event.model_dump(mode="json") for event in events],
            },
            ensure_ascii=False,
            indent=2,
        ))
        return 0
    print(f"As of {_local(as_of)} (Asia/Shanghai): events 1-{len(events)} of {total}")
    print(render_state(state))
    print(render_history(events))
    return 0


def register(command: Any) -> None:
    """Add the audit subcommands to starter.py's parser."""
    history = command("history", cmd_history,
                      "a case's whole history from PostgreSQL: the timeline in business words, or --raw the "
                      "archived Temporal history")
    history.add_argument("complaint_id")
    history.add_argument("--raw", action="store_true",
                         help="print the archived Temporal history of every run (event id, time, type, detail)")
    history.add_argument("--json", action="store_true",
                         help="machine-readable: state, events, hash-chain check and archived runs")
    as_option(history)

    export = command("export", cmd_export,
                     "one JSON bundle for auditors: events with their hash chain, archived Temporal histories, "
                     "chain head; personal data in clear only for a login with the pii:read scope, masked otherwise")
    export.add_argument("complaint_id")
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the bundle here (default: stdout)")
    export.add_argument("--masked", action="store_true",
                        help="show personal values masked (136****8765) even for a login with the pii:read scope")
    as_option(export)

    verify = command("verify", cmd_verify,
                     "recompute hash chains and archive digests; exit 1 naming the first broken link of each case")
    verify.add_argument("complaint_id", nargs="?", help="the case to check")
    verify.add_argument("--all", action="store_true", help="every case, streaming (prints progress on long runs)")
    verify.add_argument("--deep", action="store_true",
                        help="also fetch every billing record an adjustment cites from the billing system and "
                        "check its hash; with --all, also compare each archived run's saved events with the "
                        "event store (always done for one case)")
    verify.add_argument("--json", action="store_true", help="machine-readable report (exit status as without)")

    command("reconcile", cmd_reconcile,
            "compare the billing ledger with the AdjustmentApplied events and the partners' records with the "
            "PartnerRequestConfirmed events; list every mismatch, exit 1 if there is one")

    erase = command("erase", cmd_erase,
                    "erase a customer's personal data (PIPL): destroy their key, so their number, name and ID "
                    "number read [erased] in every case; records PersonalDataErased on each (closed) case")
    erase.add_argument("--msisdn", required=True, help="the customer's number, as they write it")
    erase.add_argument("--reason", default=DEFAULT_ERASE_REASON,
                       help=f"why, e.g. the customer's request and its date (default: {DEFAULT_ERASE_REASON!r})")
    as_option(erase)

    command("rebuild-projections", cmd_rebuild_projections,
            "drop the read model (complaints) and fold it again from the events")


__all__ = ["parse_time", "problem_lines", "register", "render_history", "show_as_of", "verify_verdict"]
