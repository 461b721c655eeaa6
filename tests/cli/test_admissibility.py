"""`starter file --disputed-since` and `show` of a complaint rejected at intake, as subprocesses against a running
engine: the rejection names the rule, exits 1, and `show` prints it; a future or malformed day files nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.clock import local_day
from domain.regulatory import months_before
from store.event_store import PostgresEventStore
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import run_starter

RULE = "MIIT: billing disputes older than 5 months are not accepted"


def _file(case: str, disputed_since: str) -> list[str]:
    return ["file", "--id", case, "--category", "billing_spike", "--msisdn", BILLING_SPIKE_CUSTOMER.msisdn,
            "--name", BILLING_SPIKE_CUSTOMER.name, "--description", "话费比平时高四倍",
            "--disputed-since", disputed_since]


async def test_a_six_month_old_billing_dispute_is_rejected_and_show_prints_the_rule(cli_engine: CliEngine) -> None:
    today = local_day(datetime.now(UTC))
    six_months_ago, oldest = months_before(today, 6), months_before(today, 5)
    case = f"CLI-{uuid.uuid4().hex[:8]}-late"

    filed = await run_starter(_file(case, six_months_ago.isoformat()), cli_engine.env)
    assert filed.returncode == 1, str(filed)
    assert f"filed {case} (billing_spike)" in filed.stdout
    assert f"rejected at intake: {RULE}: the disputed charges date from {six_months_ago}, before {oldest}" in (
        filed.stdout)

    shown = await run_starter(["show", case], cli_engine.env)
    assert shown.returncode == 0, str(shown)
    lines = shown.stdout.splitlines()
    assert "status closed" in lines[0] and "SLA due -" in lines[1], shown.stdout
    assert f"  disputed since {six_months_ago}" in lines
    assert f"  rejected at intake: {RULE}: the disputed charges date from {six_months_ago}, before {oldest}" in lines
    assert any("miit_answer" in line and " answered at " in line for line in lines), shown.stdout
    [rejected] = [line for line in lines if "REJECTED at intake" in line]
    assert rejected.split()[0] == "2" and f"{RULE}" in rejected and f"(oldest accepted: {oldest})" in rejected
    assert not any("SLA clock" in line or "Acknowledged" in line for line in lines), shown.stdout


async def test_a_four_month_old_billing_dispute_is_filed_as_usual(cli_engine: CliEngine) -> None:
    case = f"CLI-{uuid.uuid4().hex[:8]}-recent"
    filed = await run_starter(_file(case, months_before(local_day(datetime.now(UTC)), 4).isoformat()), cli_engine.env)
    assert filed.returncode == 0, str(filed)
    assert "rejected" not in filed.stdout


async def test_a_day_after_today_or_not_a_day_is_bad_input_and_files_nothing(cli_engine: CliEngine) -> None:
    tomorrow = local_day(datetime.now(UTC)) + timedelta(days=1)
    for written, said in ((tomorrow.isoformat(), "is after today"), ("last spring", "write it as YYYY-MM-DD")):
        case = f"CLI-{uuid.uuid4().hex[:8]}-bad"
        refused = await run_starter(_file(case, written), cli_engine.env)
        assert refused.returncode == 2, str(refused)
        assert refused.stderr.startswith("error: disputed_since: ") and said in refused.stderr, refused.stderr
        assert await PostgresEventStore(cli_engine.pool).load(case) == []


async def test_file_help_says_how_to_give_the_date_and_what_happens(cli_engine: CliEngine) -> None:
    helped = await run_starter(["file", "--help"], cli_engine.env)
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    assert "--disputed-since YYYY-MM-DD" in text and "older than 5 months" in text and "rejected" in text
