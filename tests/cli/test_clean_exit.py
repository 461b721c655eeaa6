"""No command crashes on its way out: temporalio's Rust threads once aborted about one call in ten at
interpreter shutdown (`Fatal Python error: PyGILState_Release`, exit 134) after the work was done.
Each command runs 15 times as a real subprocess, four at a time, and every exit status is checked: at the
old one-in-ten rate, 45 runs miss the crash with odds of 1 in 100 (0.9^45)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from tests.cli.conftest import CliEngine
from tests.cli.starter_process import Finished, run_starter
from tests.helpers import forwarding_intake, wait_for_question

RUNS = 15
AT_ONCE = 4


async def run_many(argv: list[str], env: dict[str, str]) -> list[Finished]:
    slots = asyncio.Semaphore(AT_ONCE)

    async def one() -> Finished:
        async with slots:
            return await run_starter(argv, env, timeout=60)

    return await asyncio.gather(*(one() for _ in range(RUNS)))


def check_all(runs: list[Finished], expected: int) -> None:
    statuses = Counter(done.returncode for done in runs)
    crashed = [done for done in runs if done.returncode != expected or "Fatal Python error" in done.stderr]
    assert not crashed, f"exit statuses {dict(statuses)}; first unexpected:\n{crashed[0]}"


async def test_show_list_and_a_refused_approve_exit_with_their_own_status_every_time(cli_engine: CliEngine) -> None:
    intake = forwarding_intake()
    await cli_engine.client.file(intake)
    await wait_for_question(cli_engine.client, intake.complaint_id)
    case = intake.complaint_id

    shows = await run_many(["show", case], cli_engine.env)
    check_all(shows, 0)
    assert all(f"Case {case}" in done.stdout for done in shows)

    lists = await run_many(["list", "--json"], cli_engine.env)
    check_all(lists, 0)
    assert all(isinstance(json.loads(done.stdout), list) for done in lists)

    # Refused by the case: it has no adjustment adj-1.
    approvals = await run_many(
        ["approve", case, "adj-1", "--as", "sup-zhang"], cli_engine.env
    )
    check_all(approvals, 1)
    assert all("has no adjustment 'adj-1'" in done.stderr for done in approvals)
