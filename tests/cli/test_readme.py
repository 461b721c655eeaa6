"""The README's "Using it" section is an executable spec: every command in it runs against a running
engine, with the example case ids replaced by real cases in the state each command needs, and must exit
0 and print what it is for. A README edit that breaks a command, or adds one this test does not know,
fails here."""

from __future__ import annotations

import asyncio
import re
import shlex
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from client.api import ComplaintClient
from domain.cases import Category, Status
from domain.intake import ComplaintIntake
from stories import seed_stories
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import REPO, Finished, run_starter
from workflows.messages import CaseView

PLACEHOLDERS = ("CMP-20261125-1a2b3c4d", "CMP-...")
CaseOf = Callable[[], str] | None  # the real case a command's example id stands for
Before = Callable[[], Awaitable[None]]  # what must hold before the command runs
Printed = Callable[[Finished], bool]  # what its output must show


def using_it_commands(readme: Path = REPO / "README.md") -> list[list[str]]:
    """The commands of the first bash block under "## Using it", continuation lines joined, comments dropped."""
    section = readme.read_text(encoding="utf-8").split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.replace("\\\n", " ").splitlines()]
    return [words for words in commands if words]


async def view_until(
    client: ComplaintClient, complaint_id: str, ready: Callable[[CaseView], bool], what: str, seconds: float = 60
) -> CaseView:
    """Poll the case until `ready` holds (real time: the dev server's clock does not skip)."""
    for _ in range(int(seconds / 0.1)):
        view = await client.view(complaint_id)
        if ready(view):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"{complaint_id} never reached: {what} (status {view.state.status.value})")


def asks(question_id: str) -> Callable[[CaseView], bool]:
    def ready(view: CaseView) -> bool:
        question = view.state.pending_question
        return question is not None and question.question_id == question_id

    return ready


def story_intake(category: Category, title_has: str, case_id: str) -> ComplaintIntake:
    [story] = [s for s in seed_stories() if s.intake.category is category and title_has in s.title]
    return story.intake.model_copy(update={"complaint_id": case_id})


async def test_every_command_of_using_it_runs_as_written(cli_engine: CliEngine, tmp_path: Path) -> None:
    client = cli_engine.client
    run_id = uuid.uuid4().hex[:8]
    # The cases the README's commands act on besides the one its `file` command files: each is brought
    # to the state its command needs (a question asked, an adjustment waiting for a supervisor).
    spike = story_intake(Category.BILLING_SPIKE, "", f"README-{run_id}-spike")
    overcharge = story_intake(Category.BILL_DISCREPANCY, "double refund", f"README-{run_id}-overcharge")
    arrears = story_intake(Category.ARREARS_DISPUTE, "", f"README-{run_id}-arrears")
    for intake in (spike, overcharge, arrears):
        await client.file(intake)
    await view_until(client, spike.complaint_id, asks("compare-with-other-party"), "the compare question")
    await view_until(
        client, overcharge.complaint_id,
        lambda view: "adj-1" in view.state.adjustments and view.state.adjustments["adj-1"].status == "proposed",
        "adj-1 waiting for approval",
    )
    await view_until(client, arrears.complaint_id, lambda view: view.state.pending_question is not None, "a question")

    filed: list[str] = []  # the case the README's own `file` command files

    def forwarding() -> str:
        assert filed, "the README must file a case before it acts on one"
        return filed[0]

    async def confirm_asked() -> None:
        await view_until(client, forwarding(), asks("confirm-resolution"), "the confirmation question")

    async def closed() -> None:
        await view_until(client, forwarding(), lambda view: view.state.status is Status.CLOSED, "closed")

    async def nothing() -> None:
        return None

    # command -> (the case its placeholder stands for, what must hold before it runs, what it must print)
    expectations: dict[str, tuple[CaseOf, Before, Printed]] = {
        "login": (None, nothing, lambda done: done.stdout.startswith("logged in as ") and "DEV-ONLY" in done.stderr),
        "whoami": (None, nothing, lambda done: done.stdout.startswith("logged in as ")),
        "file": (None, nothing, lambda done: bool(re.search(r"^filed \S+ \(forwarding_cancel\)", done.stdout, re.M))),
        "show": (forwarding, nothing, lambda done: f"Case {forwarding()}" in done.stdout or "As of " in done.stdout),
        "confirm": (forwarding, confirm_asked, lambda done: "answered 'confirm-resolution' with 'yes'" in done.stdout),
        "answer": (lambda: spike.complaint_id, nothing,
                   lambda done: "answered 'compare-with-other-party' with 'yes'" in done.stdout),
        "approve": (lambda: overcharge.complaint_id, nothing, lambda done: "adjustment adj-1 approved" in done.stdout),
        "note": (lambda: spike.complaint_id, nothing, lambda done: "note recorded as event" in done.stdout),
        "list": (None, nothing, lambda done: "case(s)" in done.stdout),
        "reassign": (lambda: spike.complaint_id, nothing, lambda done: "now assigned to agent-zhou" in done.stdout),
        "resolve": (lambda: arrears.complaint_id, nothing, lambda done: "resolved as waiver_agreed" in done.stdout),
        "reopen": (forwarding, closed, lambda done: "reopened, run" in done.stdout),
        "history": (forwarding, nothing, lambda done: "Hash chain intact" in done.stdout),
        "export": (forwarding, nothing, lambda done: done.stdout.startswith(f"exported case {forwarding()} to ")),
        "verify": (lambda: overcharge.complaint_id, nothing, lambda done: done.stdout.startswith("OK: checked")),
        "reconcile": (None, nothing, lambda done: done.stdout.startswith("OK: ")),
        "rebuild-projections": (None, nothing, lambda done: "rebuilt the read model" in done.stdout),
    }

    commands = using_it_commands()
    assert len(commands) >= 15, commands
    ran: list[str] = []
    for words in commands:
        assert words[0] == "./run", f"not a ./run command: {words}"
        if words[1] == "up":
            # `./run up` starts the embedded services and a worker and stays up until Ctrl-C: this test
            # plays its part with the suite's dev server and a worker of its own (tests/cli/conftest.py).
            # tests/cli/test_demo.py runs the same embedded runtime end to end.
            continue
        assert words[1] == "starter", f"unknown ./run command: {words}"
        argv = words[2:]
        if argv == ["--help"]:
            done = await run_starter(argv, cli_engine.env, cwd=tmp_path)
            assert done.returncode == 0 and "exit status:" in done.stdout, str(done)
            subcommands = {cmd[2] for cmd in commands if cmd[1] == "starter" and not cmd[2].startswith("-")}
            assert all(name in done.stdout for name in subcommands), str(done)
            ran.append("--help")
            continue
        name = argv[0]
        assert name in expectations, f"the README's `{name}` command is not covered by this test: add it"
        case, before, printed = expectations[name]
        if case is not None:
            argv = [case() if word in PLACEHOLDERS else word for word in argv]
        if "--as-of" in argv:
            # The README's example moment is long before any case of this test: ask for the case as of now.
            argv[argv.index("--as-of") + 1] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        await before()
        done = await run_starter(argv, cli_engine.env, cwd=tmp_path)
        assert done.returncode == 0, str(done)
        assert printed(done), f"unexpected output\n{done}"
        if name == "file":
            filed.append(re.findall(r"^filed (\S+)", done.stdout, re.M)[0])
        if name == "list" and "--msisdn" in argv:
            assert forwarding() in done.stdout, str(done)
        if name == "export":
            assert (tmp_path / argv[argv.index("-o") + 1]).is_file()
        ran.append(name)

    assert {"file", "show", "confirm", "answer", "approve", "list"} <= set(ran), ran
