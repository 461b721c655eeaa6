r"""Drive complaints from the command line: file them, answer for customers and supervisors, read them.

Examples:
  python starter.py demo
  python starter.py file --category forwarding_cancel --msisdn 13905710001 --name 赵先生 \
      --id-number 330106198001011235 --partner-msisdn 13067890001 --description "calls do not reach me"
  python starter.py show CMP-20261125-3f9a1c
  python starter.py confirm CMP-20261125-3f9a1c
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from annotated_types import MaxLen
from pydantic import BaseModel, ValidationError
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from cli import audit_commands, delivery_commands, remediate, sla_commands, supervisor_commands
from cli import login as login_commands
from cli.connect import (
    EXIT_BAD_INPUT,
    EXIT_CODES_HELP,
    EXIT_NOT_LOGGED_IN,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    CliError,
    EngineUnreachable,
    no_worker_answered,
    require_worker,
    temporal_address,
    view_case,
)
from cli.login import acting_client, logged_in
from cli.timeline import render_case
from client.api import CaseAlreadyFiled, CaseNotFound, CommandRefused, NotAuthenticated, NotVisible
from client.basics import new_complaint_id
from domain.actors import Actor, ActorChannel, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.clock import local_day
from domain.errors import DomainError, InvalidCommand
from domain.intake import MAX_DESCRIPTION_CHARS, ComplaintIntake, parse_intake
from domain.validation import describe
from runtime.logging import configure_logging
from runtime.process_exit import exit_without_finalizing
from runtime.settings import ConfigError, Settings, load_settings_or_exit
from workflows.messages import ApprovalDecision, CustomerAnswer, ManualResolution, Note, Withdrawal

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


async def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
    """`starter file`: file a complaint (validated before anything is sent)."""
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
            "disputed_since": args.disputed_since,
            # Replaced by the logged-in filer when filed; a placeholder for validating the rest first.
            "filed_by": Actor(id="unknown", role=Role.AGENT, channel=ActorChannel.CLI).model_dump(),
        },
        today=local_day(datetime.now(UTC)),
    )
    client, _ = await acting_client(settings, args, needs_worker=False)  # a filed case waits for its worker
    try:
        await require_worker(client.temporal, settings)
        no_worker: EngineUnreachable | None = None
    except EngineUnreachable as error:
        no_worker = error
    # Without a worker the case cannot look up its duplicates yet: don't wait for an answer that won't come.
    receipt = await client.file(intake, wait_for_links=0 if no_worker else 10.0)
    print(f"filed {intake.complaint_id} ({intake.category.value}), run {receipt.result_run_id}")
    if receipt.rejection is not None:
        # Filed (the record keeps it) and not accepted: a script must not take it for a case being worked.
        print(f"rejected at intake: {receipt.rejection.rule}: {receipt.rejection.reason}")
        return EXIT_REFUSED
    if receipt.linked_case_ids:
        print(f"linked to open case(s) of the same number and category: {', '.join(receipt.linked_case_ids)}")
    if no_worker is not None:
        # Filed all the same (Temporal keeps it), but nothing happens to it until a worker comes.
        print(f"note: {no_worker}; the case waits until one does", file=sys.stderr)
    return 0


def _checked(model: type[BaseModel], **fields: object) -> None:
    """Validate a command before anything is contacted: bad input exits 2 and sends nothing.

    The case checks the same model again when it receives the command; this only makes the refusal early.
    """
    model.model_validate(fields)


async def cmd_answer(args: argparse.Namespace, settings: Settings) -> int:
    """`starter answer`: answer a question the case asked, as the customer or on their behalf."""
    # Staff relaying what the customer said must say so (--on-behalf); they may not answer as the customer.
    on_behalf_of = "customer" if args.on_behalf else None
    _checked(CustomerAnswer, question_id=args.question_id, answer=args.answer, comment=args.comment,
             on_behalf_of=on_behalf_of)
    client, login = await acting_client(settings, args, case=args.complaint_id)
    answer = await client.answer(
        args.complaint_id, args.question_id, args.answer, comment=args.comment, on_behalf_of=on_behalf_of
    )
    relayed = f" on behalf of the customer, by {login.actor.subject}" if args.on_behalf else ""
    print(f"{args.complaint_id}: answered {args.question_id!r} with {answer!r}{relayed}")
    return 0


async def cmd_confirm(args: argparse.Namespace, settings: Settings) -> int:
    """`starter confirm`: the customer confirms (or with --no, does not) that the case is resolved."""
    args.question_id = "confirm-resolution"
    args.answer = "no" if args.no else "yes"
    return await cmd_answer(args, settings)


async def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    """`starter approve`: approve or refuse a proposed adjustment, with the role the login grants."""
    # No privileged role is ever assumed: the approver's role is the one their login's token grants.
    approve = not args.refuse
    _checked(ApprovalDecision, adjustment_id=args.adjustment_id, approve=approve, reason=args.reason)
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    decision = await client.decide(args.complaint_id, args.adjustment_id, approve=approve, reason=args.reason)
    print(f"{args.complaint_id}: adjustment {args.adjustment_id} {decision}")
    return 0


async def cmd_note(args: argparse.Namespace, settings: Settings) -> int:
    """`starter note`: add a note to a case."""
    _checked(Note, text=args.text)
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    seq = await client.note(args.complaint_id, args.text)
    print(f"{args.complaint_id}: note recorded as event {seq}")
    return 0


async def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    """`starter withdraw`: withdraw a case at the filer's request."""
    _checked(Withdrawal, reason=args.reason)
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    await client.withdraw(args.complaint_id, args.reason)
    print(f"{args.complaint_id}: withdrawn")
    return 0


async def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """`starter show`: a case's state and timeline, now or as of a past time."""
    if args.as_of is not None:
        return await audit_commands.show_as_of(settings, args.complaint_id, args.as_of, as_json=args.json,
                                               reader=(await logged_in(settings, args.actor)).actor)
    client, _ = await acting_client(settings, args)
    view = await view_case(client, settings, args.complaint_id)
    if args.json:
        print(view.model_dump_json(indent=2))
    else:
        print(render_case(view.state, view.timeline, now=datetime.now(UTC)))
    return 0


async def cmd_resolve(args: argparse.Namespace, settings: Settings) -> int:
    """`starter resolve`: resolve a case by hand."""
    _checked(ManualResolution, outcome=args.outcome, summary=args.summary)
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    outcome = await client.resolve(args.complaint_id, args.outcome, args.summary)
    print(f"{args.complaint_id}: resolved as {outcome}; the customer is asked to confirm")
    return 0


async def cmd_reopen(args: argparse.Namespace, settings: Settings) -> int:
    """`starter reopen`: reopen a closed case within its reopen window."""
    _checked(Withdrawal, reason=args.reason)  # a reason as a withdrawal's: 1-500 characters
    client, _ = await acting_client(settings, args, case=args.complaint_id)
    handle = await client.reopen(args.complaint_id, args.reason)
    print(f"{args.complaint_id}: reopened, run {handle.result_run_id}; a person resolves it (`resolve`)")
    return 0


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """`starter demo`: run the seed's stories on the embedded runtime."""
    from cli.demo_run import run_demo

    return await run_demo(settings, timeout=args.timeout)


def max_chars(model: type[BaseModel], field: str) -> int:
    """The length limit a model puts on a field, so the help text says what the case itself enforces."""
    limits = [meta.max_length for meta in model.model_fields[field].metadata if isinstance(meta, MaxLen)]
    assert limits, f"{model.__name__}.{field} has no length limit"
    return limits[0]


def _up_to(model: type[BaseModel], field: str) -> str:
    return f"up to {max_chars(model, field):,} characters"


def _actor_options(parser: argparse.ArgumentParser, role_help: str) -> None:
    """Who acts is the logged-in user (`starter login`); `--as` picks among cached logins.

    The role is the token's: no option declares one.
    """
    parser.add_argument("--as", dest="actor", metavar="ID",
                        help=f"act with the cached login of ID (default: the last `starter login`; {role_help})")


def build_parser() -> argparse.ArgumentParser:
    """The starter's command-line parser, with every command."""
    parser = argparse.ArgumentParser(
        prog="starter.py", description=__doc__, epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, description=help, epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    demo = command("demo", cmd_demo, "file the seed's stories, drive each to its end and print the timelines")
    demo.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for each story (default 180)")

    file = command("file", cmd_file, "file a complaint (validated first: bad input files nothing)")
    file.add_argument("--id", help="case id (default: CMP-<date>-<random>): 3-64 letters, digits, '.', '_' or '-', "
                      "holding no phone or ID number")
    file.add_argument("--category", required=True, help=f"one of: {', '.join(c.value for c in Category)}")
    file.add_argument("--msisdn", required=True,
                      help="the customer's mainland mobile number: 11 digits, as customers write it "
                      "(+86 / 0086 prefix, spaces, hyphens and full-width digits are read as the 11 digits)")
    file.add_argument("--name", required=True, help=f"the customer's name ({_up_to(ComplaintIntake, 'customer_name')})")
    file.add_argument("--description", required=True,
                      help=f"what the customer says, kept exactly as given "
                      f"(up to {MAX_DESCRIPTION_CHARS:,} characters)")
    file.add_argument("--priority", default="normal", help=f"{', '.join(p.value for p in Priority)} (default normal)")
    file.add_argument("--channel", default="store", help=f"{', '.join(c.value for c in IntakeChannel)} (default store)")
    file.add_argument("--id-number", help="the customer's 18-character ID number (forwarding_cancel needs it)")
    file.add_argument("--partner-msisdn",
                      help="the other carrier's number holding the forwarding "
                      "(forwarding_cancel; written like --msisdn)")
    file.add_argument("--disputed-since", metavar="YYYY-MM-DD",
                      help="the day the disputed charge or matter began. A billing dispute about charges older than "
                      "5 months, or another dispute older than 2 years (MIIT rules; the deployment's policy), is "
                      "filed and rejected at once, naming the rule: exit 1. A day after today is bad input")
    _actor_options(file, "recorded as the filer")

    answer = command("answer", cmd_answer, "answer a question the case asked the customer")
    answer.add_argument("complaint_id")
    answer.add_argument("question_id", help="the question's id, as `show` prints it")
    answer.add_argument("answer", help="one of the question's options, as `show` prints them")
    answer.add_argument("--comment", default="", help=f"what the customer added ({_up_to(CustomerAnswer, 'comment')})")
    answer.add_argument("--on-behalf", action="store_true",
                        help="staff relaying the customer's answer (recorded as on behalf of the customer)")
    _actor_options(answer, "a customer answers; staff add --on-behalf")

    confirm = command("confirm", cmd_confirm, "the customer confirms the resolution (or says it is not solved)")
    confirm.add_argument("complaint_id")
    confirm.add_argument("--no", action="store_true", help="the problem is NOT solved")
    confirm.add_argument("--comment", default="", help=f"what the customer added ({_up_to(CustomerAnswer, 'comment')})")
    confirm.add_argument("--on-behalf", action="store_true",
                         help="staff relaying the customer's answer (recorded as on behalf of the customer)")
    _actor_options(confirm, "a customer confirms; staff add --on-behalf")

    approve = command("approve", cmd_approve, "approve (or --refuse) an adjustment waiting for a supervisor")
    approve.add_argument("complaint_id")
    approve.add_argument("adjustment_id", help="e.g. adj-1, as `show` prints it")
    approve.add_argument("--refuse", action="store_true", help="refuse instead of approving (needs --reason)")
    approve.add_argument("--reason", default="",
                         help=f"why; told to the customer when refused ({_up_to(ApprovalDecision, 'reason')})")
    _actor_options(approve, "the login needs a supervisor, store_manager or regional_support role; "
                   "the filer may not approve")

    note = command("note", cmd_note, "add a note to a case's timeline")
    note.add_argument("complaint_id")
    note.add_argument("text", help=f"the note ({_up_to(Note, 'text')})")
    _actor_options(note, "anyone logged in")

    resolve = command("resolve", cmd_resolve,
                      "a person resolves the case (e.g. a reopened one); the customer is then asked to confirm")
    resolve.add_argument("complaint_id")
    resolve.add_argument("--outcome", required=True,
                         help=f"a short code of the outcome, e.g. refund_agreed (lowercase letters, digits and '_', "
                         f"{_up_to(ManualResolution, 'outcome')})")
    resolve.add_argument("--summary", required=True,
                         help=f"what was done, told to the customer ({_up_to(ManualResolution, 'summary')})")
    _actor_options(resolve, "staff")

    reopen = command("reopen", cmd_reopen,
                     "reopen a case closed within REOPEN_WINDOW_DAYS (default 7): its clock runs again and a "
                     "person resolves it")
    reopen.add_argument("complaint_id")
    reopen.add_argument("--reason", required=True,
                        help=f"why it is reopened, e.g. what the customer says now ({_up_to(Withdrawal, 'reason')})")
    _actor_options(reopen, "the customer or staff")

    withdraw = command("withdraw", cmd_withdraw, "the customer withdraws the complaint")
    withdraw.add_argument("complaint_id")
    withdraw.add_argument("--reason", required=True, help=f"why ({_up_to(Withdrawal, 'reason')})")
    _actor_options(withdraw, "the customer or staff")

    show = command("show", cmd_show,
                   "print a case's state, its open question (with when the customer is reminded and when the case "
                   "closes unconfirmed), its adjustments and its timeline")
    show.add_argument("complaint_id")
    _actor_options(show, "a customer's login sees only that customer's cases")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.add_argument("--as-of", type=audit_commands.parse_time, metavar="TIME",
                      help="the case as it stood then (ISO time; without a zone it is Asia/Shanghai), "
                      "folded from its events in PostgreSQL")

    login_commands.register(command)
    supervisor_commands.register(command)
    audit_commands.register(command)
    remediate.register(command)
    sla_commands.register(command)
    delivery_commands.register(command)
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


def _rpc_failure(error: RPCError | RPCTimeoutOrCancelledError, settings: Settings) -> tuple[str, int]:
    """One line and an exit status for an error of Temporal's API that no command turned into words."""
    if isinstance(error, RPCTimeoutOrCancelledError) or error.status in (
        RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED
    ):
        return str(no_worker_answered(settings)), EXIT_UNREACHABLE
    if error.status is RPCStatusCode.UNAVAILABLE:
        return (f"Temporal at {temporal_address(settings)} stopped answering ({error.message}): "
                "check that `./run up` is running"), EXIT_UNREACHABLE
    return f"Temporal refused the request: {error.message}", EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status (see EXIT_CODES_HELP)."""
    argv = sys.argv[1:] if argv is None else argv
    bad = _undecodable_argument(argv)
    if bad is not None:
        print(f"error: {bad} is not valid UTF-8 text; nothing was sent", file=sys.stderr)
        return EXIT_BAD_INPUT
    args = build_parser().parse_args(argv)
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, "WARNING" if args.command != "demo" else settings.log_level)
    try:
        settings.payload_key_ring()  # a bad key is bad configuration (exit 2), said before any login is asked for
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(args.handler(args, settings))
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except NotAuthenticated as error:
        print(f"error: not logged in: {error}", file=sys.stderr)
        return EXIT_NOT_LOGGED_IN
    except (CaseAlreadyFiled, CaseNotFound, CommandRefused, InvalidCommand, NotVisible) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except DomainError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as error:
        print(f"error: {describe(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (RPCError, RPCTimeoutOrCancelledError) as error:
        line, code = _rpc_failure(error, settings)
        print(f"error: {line}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    exit_without_finalizing(main)
