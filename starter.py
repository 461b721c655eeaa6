"""Drive complaints from the command line: file them, answer for customers and supervisors, read them.

Examples:
  python starter.py demo
  python starter.py file --category forwarding_cancel --msisdn 13905710001 --name 赵先生 \\
      --id-number 330106198001011235 --partner-msisdn 13067890001 --description "calls do not reach me"
  python starter.py show CMP-20261125-3f9a1c
  python starter.py confirm CMP-20261125-3f9a1c
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from cli import audit_commands, supervisor_commands
from cli.connect import CliError, complaint_client
from cli.timeline import render_state, render_timeline
from client.api import CaseAlreadyFiled, CaseNotFound, CommandRefused
from domain.actors import Actor, ActorChannel, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.errors import DomainError
from domain.intake import parse_intake
from domain.validation import describe
from runtime.logging import configure_logging
from runtime.settings import Settings, load_settings_or_exit

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


def _actor(args: argparse.Namespace, default_id: str, default_role: Role) -> Actor:
    try:
        return Actor(id=args.actor or default_id, role=args.role or default_role, channel=ActorChannel.CLI)
    except ValueError as error:
        raise CliError(f"--as/--role: {error}") from None


def new_complaint_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"CMP-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"


async def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
    # Validate everything before contacting Temporal: bad input must file nothing.
    intake = parse_intake(
        {
            "complaint_id": args.id or new_complaint_id(),
            "category": args.category,
            "msisdn": args.msisdn,
            "customer_name": args.name,
            "description": args.description,
            "priority": args.priority,
            "channel": args.channel,
            "id_number": args.id_number,
            "partner_msisdn": args.partner_msisdn,
            "filed_by": _actor(args, "agent", Role.AGENT).model_dump(),
        }
    )
    client = await complaint_client(settings)
    receipt = await client.file(intake)
    print(f"filed {intake.complaint_id} ({intake.category.value}), run {receipt.result_run_id}")
    if receipt.linked_case_ids:
        print(f"linked to open case(s) of the same number and category: {', '.join(receipt.linked_case_ids)}")
    return 0


async def cmd_answer(args: argparse.Namespace, settings: Settings) -> int:
    client = await complaint_client(settings)
    actor = _actor(args, "customer", Role.CUSTOMER)
    answer = await client.answer(args.complaint_id, args.question_id, args.answer, actor, comment=args.comment)
    print(f"{args.complaint_id}: answered {args.question_id!r} with {answer!r}")
    return 0


async def cmd_confirm(args: argparse.Namespace, settings: Settings) -> int:
    args.question_id = "confirm-resolution"
    args.answer = "no" if args.no else "yes"
    return await cmd_answer(args, settings)


async def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    client = await complaint_client(settings)
    actor = _actor(args, "supervisor", Role.SUPERVISOR)
    decision = await client.decide(
        args.complaint_id, args.adjustment_id, approve=not args.refuse, actor=actor, reason=args.reason
    )
    print(f"{args.complaint_id}: adjustment {args.adjustment_id} {decision}")
    return 0


async def cmd_note(args: argparse.Namespace, settings: Settings) -> int:
    client = await complaint_client(settings)
    seq = await client.note(args.complaint_id, args.text, _actor(args, "agent", Role.AGENT))
    print(f"{args.complaint_id}: note recorded as event {seq}")
    return 0


async def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    client = await complaint_client(settings)
    await client.withdraw(args.complaint_id, args.reason, _actor(args, "customer", Role.CUSTOMER))
    print(f"{args.complaint_id}: withdrawn")
    return 0


async def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    if args.as_of is not None:
        return await audit_commands.show_as_of(settings, args.complaint_id, args.as_of, as_json=args.json)
    client = await complaint_client(settings)
    view = await client.view(args.complaint_id)
    if args.json:
        print(view.model_dump_json(indent=2))
    else:
        print(render_state(view.state))
        print(render_timeline(view.timeline))
    return 0


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from cli.demo_run import run_demo

    return await run_demo(settings, timeout=args.timeout)


def _actor_options(parser: argparse.ArgumentParser, role_help: str) -> None:
    parser.add_argument("--as", dest="actor", metavar="ID", help="who is acting (recorded in the case's events)")
    parser.add_argument("--role", type=Role, choices=list(Role), metavar="ROLE",
                        help=f"their role: {', '.join(r.value for r in Role)} ({role_help})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="starter.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    demo = command("demo", cmd_demo, "file the seed's stories, drive each to its end and print the timelines")
    demo.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each story (default 180)")

    file = command("file", cmd_file, "file a complaint (validated first: bad input files nothing)")
    file.add_argument("--id", help="case id (default: CMP-<date>-<random>); it must not hold a phone number")
    file.add_argument("--category", required=True, help=f"one of: {', '.join(c.value for c in Category)}")
    file.add_argument("--msisdn", required=True, help="the customer's 11-digit mobile number")
    file.add_argument("--name", required=True, help="the customer's name")
    file.add_argument("--description", required=True, help="what the customer says, kept exactly as given")
    file.add_argument("--priority", default="normal", help=f"{', '.join(p.value for p in Priority)} (default normal)")
    file.add_argument("--channel", default="store", help=f"{', '.join(c.value for c in IntakeChannel)} (default store)")
    file.add_argument("--id-number", help="the customer's 18-character ID number (forwarding_cancel needs it)")
    file.add_argument("--partner-msisdn", help="the other carrier's number holding the forwarding (forwarding_cancel)")
    _actor_options(file, "default: agent")

    answer = command("answer", cmd_answer, "answer a question the case asked the customer")
    answer.add_argument("complaint_id")
    answer.add_argument("question_id", help="the question's id, as `show` prints it")
    answer.add_argument("answer", help="one of the question's options")
    answer.add_argument("--comment", default="", help="what the customer added")
    _actor_options(answer, "default: customer")

    confirm = command("confirm", cmd_confirm, "the customer confirms the resolution (or says it is not solved)")
    confirm.add_argument("complaint_id")
    confirm.add_argument("--no", action="store_true", help="the problem is NOT solved")
    confirm.add_argument("--comment", default="", help="what the customer added")
    _actor_options(confirm, "default: customer")

    approve = command("approve", cmd_approve, "approve (or --refuse) an adjustment waiting for a supervisor")
    approve.add_argument("complaint_id")
    approve.add_argument("adjustment_id", help="e.g. adj-1, as `show` prints it")
    approve.add_argument("--refuse", action="store_true", help="refuse instead of approving (needs --reason)")
    approve.add_argument("--reason", default="", help="why; told to the customer when refused")
    _actor_options(approve, "default: supervisor; the filer may not approve")

    note = command("note", cmd_note, "add a note to a case's timeline")
    note.add_argument("complaint_id")
    note.add_argument("text")
    _actor_options(note, "default: agent")

    withdraw = command("withdraw", cmd_withdraw, "the customer withdraws the complaint")
    withdraw.add_argument("complaint_id")
    withdraw.add_argument("--reason", required=True)
    _actor_options(withdraw, "default: customer")

    show = command("show", cmd_show, "print a case's state and timeline")
    show.add_argument("complaint_id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("--as-of", type=audit_commands.parse_time, metavar="TIME",
                      help="the case as it stood then (ISO time; without a zone it is Asia/Shanghai), "
                      "folded from its events in PostgreSQL")

    supervisor_commands.register(command)
    audit_commands.register(command)
    return parser


def _undecodable_argument(argv: list[str]) -> str | None:
    """Which argument was not valid UTF-8 (Python keeps such bytes as surrogates), said for a person."""
    for position, argument in enumerate(argv):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            option = argv[position - 1] if position and argv[position - 1].startswith("--") else None
            return f"the value of {option}" if option else f"argument {position + 1}"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    bad = _undecodable_argument(argv)
    if bad is not None:
        print(f"error: {bad} is not valid UTF-8 text; nothing was sent", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, "WARNING" if args.command != "demo" else settings.log_level)
    try:
        return asyncio.run(args.handler(args, settings))
    except (DomainError, CliError, CaseAlreadyFiled, CaseNotFound, CommandRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, DomainError) else 1
    except ValidationError as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
