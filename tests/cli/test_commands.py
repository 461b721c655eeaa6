"""What the commands print and do, as subprocesses against a running engine: `show` with the open
question and the adjustments, `list --msisdn` and `--csv`, `resolve` and `reopen`, `--json` reads."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

from domain.actors import Actor, Role
from domain.cases import Category, Status
from stories import seed_stories
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import run_starter
from tests.cli.test_readme import view_until
from tests.helpers import wait_for_question
from tests.identity import cache_login


async def test_show_prints_the_open_question_its_deadlines_and_the_adjustments(cli_engine: CliEngine) -> None:
    [story] = [s for s in seed_stories() if "double refund" in s.title]
    case = f"CLI-{uuid.uuid4().hex[:8]}-overcharge"
    await cli_engine.client.file(story.intake.model_copy(update={"complaint_id": case}))
    await view_until(cli_engine.client, case, lambda view: "adj-1" in view.state.adjustments, "adj-1 proposed")

    waiting = await run_starter(["show", case], cli_engine.env)
    assert waiting.returncode == 0, str(waiting)
    assert "open question: none" in waiting.stdout
    [adjustment] = [line.split() for line in waiting.stdout.splitlines() if line.strip().startswith("adj-1")]
    assert adjustment[:4] == ["adj-1", "double_refund", "¥24.00", "proposed,"], adjustment
    assert "waits for a supervisor" in waiting.stdout

    approved = await run_starter(
        ["approve", case, "adj-1", "--as", "sup-zhang"], cli_engine.env
    )
    assert approved.returncode == 0, str(approved)
    await wait_for_question(cli_engine.client, case)
    asked = await run_starter(["show", case], cli_engine.env)
    lines = asked.stdout.splitlines()
    assert any(line.startswith("  open question confirm-resolution (asked ") for line in lines), asked.stdout
    assert "    options: yes / no" in lines
    [deadlines] = [line for line in lines if "closes unconfirmed" in line]
    # bill_discrepancy waits 24 h for the reminder and 72 h in all (domain/sla.py), said in Shanghai time.
    assert "reminder " in deadlines and "(in 23 h 59 min)" in deadlines and "(in 2 d 23 h 59 min)" in deadlines
    assert any("adj-1" in line and "¥24.00" in line and "applied by sup-zhang" in line for line in lines)

    as_json = await run_starter(["show", case, "--json"], cli_engine.env)
    view = json.loads(as_json.stdout)
    assert view["state"]["pending_question"]["question_id"] == "confirm-resolution"
    assert view["state"]["adjustments"]["adj-1"]["status"] == "applied"


async def test_list_finds_a_number_s_cases_however_it_is_written(cli_engine: CliEngine) -> None:
    case = f"CLI-{uuid.uuid4().hex[:8]}-spam"
    filed = await run_starter(
        ["file", "--id", case, "--category", "spam_sms", "--msisdn", "＋８６ １３９-0571-9999", "--name", "王先生",
         "--description", "junk SMS every day"],
        cli_engine.env,
    )
    assert filed.returncode == 0, str(filed)
    for written in ("13905719999", "+86 139 0571 9999", "0086-139-0571-9999"):
        for _ in range(50):  # visibility is eventually consistent
            listed = await run_starter(["list", "--msisdn", written, "--csv"], cli_engine.env)
            rows = list(csv.DictReader(io.StringIO(listed.stdout)))
            if rows:
                break
        assert listed.returncode == 0, str(listed)
        assert [row["complaint_id"] for row in rows] == [case], listed.stdout
        assert rows[0]["category"] == "spam_sms"
        assert "13905719999" not in listed.stdout  # the number is never listed, only its case
    other = await run_starter(["list", "--msisdn", "13905718888", "--json"], cli_engine.env)
    assert other.returncode == 0 and json.loads(other.stdout) == []


async def test_resolve_by_hand_then_reopen_a_closed_case(cli_engine: CliEngine) -> None:
    [story] = [s for s in seed_stories() if s.intake.category is Category.ARREARS_DISPUTE]
    case = f"CLI-{uuid.uuid4().hex[:8]}-arrears"
    await cli_engine.client.file(story.intake.model_copy(update={"complaint_id": case}))
    await wait_for_question(cli_engine.client, case)
    # The customer's own login: their token names their number, so they see (and confirm) their case.
    cache_login(Path(cli_engine.env["COMPLAINTS_DATA_DIR"]), Actor(id="customer-arrears", role=Role.CUSTOMER),
                msisdn=story.intake.msisdn)

    customer = await run_starter(
        ["resolve", case, "--outcome", "waived", "--summary", "s", "--as", "customer-arrears"], cli_engine.env
    )
    assert customer.returncode == 1 and "a customer cannot resolve a case" in customer.stderr, str(customer)
    resolved = await run_starter(
        ["resolve", case, "--outcome", "waiver_agreed", "--summary", "the store waives it", "--as", "agent-li"],
        cli_engine.env,
    )
    assert resolved.returncode == 0 and "resolved as waiver_agreed" in resolved.stdout, str(resolved)
    open_again = await run_starter(["reopen", case, "--reason", "not closed yet"], cli_engine.env)
    assert open_again.returncode == 1 and "still open" in open_again.stderr, str(open_again)

    await view_until(cli_engine.client, case, lambda v: v.state.pending_question is not None, "confirmation")
    assert (await run_starter(["confirm", case, "--as", "customer-arrears"], cli_engine.env)).returncode == 0
    await view_until(cli_engine.client, case, lambda v: v.state.status is Status.CLOSED, "closed")
    reopened = await run_starter(["reopen", case, "--reason", "the bill came again"], cli_engine.env)
    assert reopened.returncode == 0 and "reopened, run" in reopened.stdout, str(reopened)
    view = await view_until(cli_engine.client, case, lambda v: v.state.status is not Status.CLOSED, "reopened")
    assert [event.reason for event in view.timeline if event.type == "ComplaintReopened"] == ["the bill came again"]


async def test_history_and_verify_read_as_json(cli_engine: CliEngine) -> None:
    intake_case = f"CLI-{uuid.uuid4().hex[:8]}-spam"
    await run_starter(["file", "--id", intake_case, "--category", "spam_sms", "--msisdn", "13905710001",
                       "--name", "x", "--description", "y"], cli_engine.env)
    await wait_for_question(cli_engine.client, intake_case)
    history = await run_starter(["history", intake_case, "--json"], cli_engine.env)
    assert history.returncode == 0, str(history)
    read = json.loads(history.stdout)
    assert read["state"]["complaint_id"] == intake_case and read["verification"]["intact"] is True
    assert read["timeline"][0]["type"] == "ComplaintFiled"
    verify = await run_starter(["verify", intake_case, "--json"], cli_engine.env)
    assert verify.returncode == 0 and json.loads(verify.stdout)["intact"] is True, str(verify)
