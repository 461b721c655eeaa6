"""`starter remediate` end to end on the dev server: the dry run's plan, a campaign watched to its end,
its status with the cases by status, a rerun that opens nothing, and a pause only a supervisor may make."""

from __future__ import annotations

from client.remediation import case_counts
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import run_starter
from tests.remediation.batches import HARMED_OF_20, small_batch


async def test_remediate_plans_runs_reports_and_reruns_idempotently(cli_engine: CliEngine) -> None:
    batch_id = await small_batch(cli_engine.pool)

    plan = await run_starter(["remediate", "--batch", batch_id, "--dry-run"], cli_engine.env)
    assert plan.returncode == 0, plan
    assert f"20 numbers touched, {HARMED_OF_20} harmed" in plan.stdout
    assert "restore_validity 12, restore_validity_and_reactivate 4" in plan.stdout
    assert "nothing was opened" in plan.stdout
    assert await case_counts(cli_engine.pool, batch_id) == {}

    refused = await run_starter(["remediate", "--batch", batch_id, "--as", "agent", "--no-wait"], cli_engine.env)
    assert refused.returncode == 1 and "a agent cannot start" in refused.stderr, refused

    run = await run_starter(["remediate", "--batch", batch_id, "--as", "sup-zhang", "--page-size", "5",
                             "--rate", "6000"], cli_engine.env)
    assert run.returncode == 0, run
    assert f"opened {HARMED_OF_20} case(s), 0 found open already" in run.stdout
    assert "[##############################] 20/20 numbers" in run.stdout

    status = await run_starter(["remediate", "--status", batch_id, "--as", "sup-zhang"], cli_engine.env)
    assert status.returncode == 0, status
    assert "started by sup-zhang" in status.stdout and "cases by status:" in status.stdout

    again = await run_starter(["remediate", "--batch", batch_id, "--as", "sup-zhang"], cli_engine.env)
    assert again.returncode == 0, again
    # Numbers already remedied are no longer harmed; any not yet remedied find their case filed.
    assert "opened 0 case(s)" in again.stdout
    assert sum((await case_counts(cli_engine.pool, batch_id)).values()) == HARMED_OF_20


async def test_remediate_refuses_bad_input_before_sending_anything(cli_engine: CliEngine) -> None:
    bad = await run_starter(["remediate", "--batch", "bad batch;", "--dry-run"], cli_engine.env)
    assert bad.returncode == 2 and "batch id" in bad.stderr, bad
    unknown = await run_starter(["remediate", "--batch", "NO-SUCH-BATCH", "--dry-run"], cli_engine.env)
    assert unknown.returncode == 2 and "no batch NO-SUCH-BATCH" in unknown.stderr, unknown
    nothing = await run_starter(["remediate", "--pause", "--as", "agent"], cli_engine.env)
    assert nothing.returncode == 2 and "name the batch" in nothing.stderr, nothing
    # A real run of a batch the billing system does not hold: the campaign stops at once, and says why.
    stopped = await run_starter(["remediate", "--batch", "NO-SUCH-BATCH", "--as", "sup-zhang"], cli_engine.env)
    assert stopped.returncode == 1 and "stopped: no batch NO-SUCH-BATCH" in stopped.stderr, stopped
