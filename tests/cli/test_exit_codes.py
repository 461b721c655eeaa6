"""Exit statuses (0 done, 1 refused, 2 bad input, 3 engine unreachable, 4 not logged in) and the one line a
user gets when Temporal or the worker is not there: without waiting on it, naming the address and `./run up`.

The CLI bounds those waits (a 3 s connect, a 3 s query), so on an idle machine the line comes within 5 s. The
tests check that the wait is bounded (BOUNDED_SECONDS), not a speed: a machine loaded by other work takes a few
seconds more only to start Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from runtime.embedded import free_port
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import Finished, run_starter, starter_env
from tests.conftest import engine
from tests.helpers import forwarding_intake, wait_for_question
from tests.identity import prepare_logins, signed
from worker import Dependencies

BOUNDED_SECONDS = 20

WORKER_COMMANDS = [
    ["show", "CMP-20261125-1a2b3c4d"],
    ["note", "CMP-20261125-1a2b3c4d", "called back"],
    ["approve", "CMP-20261125-1a2b3c4d", "adj-1", "--as", "sup-zhang"],
    ["resolve", "CMP-20261125-1a2b3c4d", "--outcome", "fixed", "--summary", "fixed"],
]


def one_line(done: Finished) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), str(done)
    assert "Traceback" not in done.stderr and "python worker.py" not in done.stderr
    return lines[0]


@pytest.mark.parametrize("argv", [*WORKER_COMMANDS, ["list", "--at-risk"], ["list", "--json"]])
async def test_no_temporal_at_all_is_one_line_naming_the_address_and_run_up(argv: list[str], tmp_path: Path) -> None:
    port = free_port()
    prepare_logins(tmp_path)
    env = starter_env(TEMPORAL_PORT=str(port), COMPLAINTS_DATA_DIR=str(tmp_path))
    done = await run_starter(argv, env, timeout=30)
    assert done.returncode == 3, str(done)
    line = one_line(done)
    assert f"127.0.0.1:{port}" in line and "`./run up`" in line
    assert done.seconds < BOUNDED_SECONDS, str(done)


@pytest.mark.parametrize("argv", WORKER_COMMANDS)
async def test_temporal_up_but_no_worker_is_one_line_without_waiting(
    dev_env: WorkflowEnvironment, argv: list[str], tmp_path: Path
) -> None:
    address = dev_env.client.service_client.config.target_host
    queue = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    prepare_logins(tmp_path)
    env = starter_env(TEMPORAL_ADDRESS=address, COMPLAINTS_TASK_QUEUE=queue, COMPLAINTS_DATA_DIR=str(tmp_path))
    done = await run_starter(argv, env, timeout=60)
    assert done.returncode == 3, str(done)
    line = one_line(done)
    assert address in line and queue in line and "`./run up`" in line
    assert done.seconds < BOUNDED_SECONDS, str(done)


async def test_refused_by_the_engine_is_1(cli_engine: CliEngine) -> None:
    unknown = await run_starter(["show", f"CMP-NONE-{uuid.uuid4().hex[:6]}"], cli_engine.env)
    assert unknown.returncode == 1 and "no case CMP-NONE" in one_line(unknown)
    no_adjustment = await run_starter(
        ["approve", f"CMP-NONE-{uuid.uuid4().hex[:6]}", "adj-1", "--as", "sup-zhang"],
        cli_engine.env,
    )
    assert no_adjustment.returncode == 1, str(no_adjustment)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["file", "--category", "spam_sms", "--msisdn", "+86 139 0571 000", "--name", "x", "--description", "y"],
         "msisdn: a mainland mobile number has 11 digits, this one has 10: write the 11 digits"),
        (["file", "--category", "spam_sms", "--msisdn", "+1 202 555 0101", "--name", "x", "--description", "y"],
         "only mainland China numbers are served"),
        (["file", "--category", "spam_sms", "--msisdn", "13905710001", "--name", "x", "--description", "y" * 4001],
         "description: String should have at most 4000 characters"),
        (["note", "CMP-1", ""], "text"),
        (["resolve", "CMP-1", "--outcome", "Fixed It", "--summary", "s"], "outcome"),
        (["verify"], "verify needs a case id or --all"),
        (["list", "--msisdn", "12345"], "msisdn"),
        (["list", "--json", "--csv"], "--json or --csv"),
    ],
)
async def test_bad_input_is_2_and_sends_nothing(argv: list[str], says: str, tmp_path: Path) -> None:
    # No engine at all: bad input must be refused before anything is contacted.
    env = starter_env(TEMPORAL_PORT=str(free_port()), COMPLAINTS_DATA_DIR=str(tmp_path),
                      DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    done = await run_starter(argv, env, timeout=30)
    assert done.returncode == 2, str(done)
    assert says in one_line(done)


async def test_a_bad_setting_or_option_is_2(tmp_path: Path) -> None:
    bad_setting = await run_starter(["list"], starter_env(TEMPORAL_PORT="seventy", COMPLAINTS_DATA_DIR=str(tmp_path)))
    assert bad_setting.returncode == 2 and "TEMPORAL_PORT" in bad_setting.stderr, str(bad_setting)
    bad_option = await run_starter(["show"], starter_env(COMPLAINTS_DATA_DIR=str(tmp_path)))
    assert bad_option.returncode == 2 and "complaint_id" in bad_option.stderr, str(bad_option)
    # A role is never declared: it is the login's token's.
    declared = await run_starter(["approve", "CMP-1", "adj-1", "--role", "supervisor"],
                                 starter_env(COMPLAINTS_DATA_DIR=str(tmp_path)))
    assert declared.returncode == 2 and "unrecognized arguments: --role" in declared.stderr, str(declared)


async def test_help_documents_the_exit_statuses_and_the_length_limits(tmp_path: Path) -> None:
    env = starter_env(COMPLAINTS_DATA_DIR=str(tmp_path))

    async def help_of(*command: str) -> str:
        done = await run_starter([*command, "--help"], env)
        assert done.returncode == 0, str(done)
        return " ".join(done.stdout.split())  # argparse wraps lines where it likes

    top = await help_of()
    for status in ("0 done", "1 refused by the engine", "2 bad input", "3 engine unreachable", "4 not logged in"):
        assert status in top, top
    file_help = await help_of("file")
    assert "up to 4,000 characters" in file_help and "up to 50 characters" in file_help
    assert "+86" in file_help and "3 engine unreachable" in file_help
    assert "up to 4,000 characters" in await help_of("note")
    resolve_help = await help_of("resolve")
    assert "up to 2,000 characters" in resolve_help and "up to 64 characters" in resolve_help
    assert "up to 500 characters" in await help_of("withdraw")


async def test_a_worker_gone_a_moment_ago_is_one_line_without_waiting(
    dev_env: WorkflowEnvironment, deps: Dependencies, tmp_path: Path
) -> None:
    """Temporal lists a stopped worker as a poller for minutes: only a short timeout can tell it is gone."""
    intake = forwarding_intake()
    async with engine(dev_env, deps) as client:
        await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        queue = client.options.task_queue
    address = dev_env.client.service_client.config.target_host
    prepare_logins(tmp_path)
    env = starter_env(TEMPORAL_ADDRESS=address, COMPLAINTS_TASK_QUEUE=queue, COMPLAINTS_DATA_DIR=str(tmp_path))
    try:
        for argv in (["show", intake.complaint_id], ["note", intake.complaint_id, "called back"]):
            done = await run_starter(argv, env, timeout=60)
            assert done.returncode == 3, str(done)
            line = one_line(done)
            assert address in line and queue in line and "`./run up`" in line
            assert done.seconds < BOUNDED_SECONDS, str(done)
    finally:
        await dev_env.client.get_workflow_handle(intake.complaint_id).terminate("test over")


async def test_filing_with_no_worker_files_and_says_the_case_waits(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    address = dev_env.client.service_client.config.target_host
    queue = f"nobody-polls-{uuid.uuid4().hex[:8]}"
    prepare_logins(tmp_path)
    env = starter_env(TEMPORAL_ADDRESS=address, COMPLAINTS_TASK_QUEUE=queue, COMPLAINTS_DATA_DIR=str(tmp_path))
    case = f"CLI-{uuid.uuid4().hex[:8]}"
    done = await run_starter(["file", "--id", case, "--category", "spam_sms", "--msisdn", "13905710001",
                              "--name", "x", "--description", "y"], env)
    try:
        assert done.returncode == 0 and f"filed {case}" in done.stdout, str(done)
        assert done.stderr.startswith(f"note: no worker polls task queue {queue!r}") and "`./run up`" in done.stderr
    finally:
        await dev_env.client.get_workflow_handle(case).terminate("test over: no worker runs this queue")


async def test_no_login_an_unknown_one_or_an_expired_one_is_4_and_sends_nothing(tmp_path: Path) -> None:
    """Checked before anything is contacted: no engine runs here at all."""
    env = starter_env(TEMPORAL_PORT=str(free_port()), COMPLAINTS_DATA_DIR=str(tmp_path))
    never = await run_starter(["note", "CMP-1", "called back"], env, timeout=30)
    assert never.returncode == 4 and "not logged in" in one_line(never) and "starter login --as" in never.stderr
    prepare_logins(tmp_path)
    unknown = await run_starter(["approve", "CMP-1", "adj-1", "--as", "sup-nobody"], env, timeout=30)
    assert unknown.returncode == 4 and "sup-nobody is not logged in" in one_line(unknown), str(unknown)
    expired = signed(Actor(id="sup-zhang", role=Role.SUPERVISOR), now=datetime.now(UTC) - timedelta(hours=2),
                     ttl=timedelta(hours=1))
    (tmp_path / "auth" / "logins" / "sup-zhang.jwt").write_text(expired)
    stale = await run_starter(["approve", "CMP-1", "adj-1", "--as", "sup-zhang"], env, timeout=30)
    assert stale.returncode == 4 and "expired" in one_line(stale) and "log in again" in stale.stderr, str(stale)
