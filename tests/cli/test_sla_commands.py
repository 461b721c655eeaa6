"""`starter sla policies | what-if | report` against a running engine: read-only, for staff."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg

from tests.cli.conftest import CliEngine
from tests.cli.starter_process import run_starter
from tests.helpers import wait_for_question

CHAIN_HEADS = """SELECT count(*) AS events, string_agg(hash, ',' ORDER BY complaint_id) AS heads
                   FROM complaint_events e
                  WHERE seq = (SELECT max(seq) FROM complaint_events m WHERE m.complaint_id = e.complaint_id)"""


async def chain(pool: asyncpg.Pool) -> tuple[int, int, str]:
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM complaint_events")
        heads = await conn.fetchrow(CHAIN_HEADS)
    return total, heads["events"], heads["heads"]


async def test_policies_what_if_and_report_read_and_change_nothing(cli_engine: CliEngine, tmp_path: Path) -> None:
    case = f"CLI-{uuid.uuid4().hex[:8]}-sla"
    filed = await run_starter(["file", "--id", case, "--category", "spam_sms", "--msisdn", "13905710001",
                               "--name", "x", "--description", "y"], cli_engine.env)
    assert filed.returncode == 0, str(filed)
    await wait_for_question(cli_engine.client, case)

    policies = await run_starter(["sla", "policies", "--json", "--as", "sup-zhang"], cli_engine.env)
    assert policies.returncode == 0, str(policies)
    versions = {row["version"]: row for row in json.loads(policies.stdout)}
    assert any(version.startswith("settings-") and row["open_cases"] >= 1 for version, row in versions.items())

    before = await chain(cli_engine.pool)
    strict = tmp_path / "policy.json"
    strict.write_text(json.dumps({"version": "strict-spam", "sla_overrides": {"spam_sms": {"normal": {
        "calendar": "24x7", "acknowledge_within": "PT1S", "resolve_within": "PT1S", "remind_customer_after": "PT1H",
        "close_unconfirmed_after": "PT2H", "re_escalate_after": "PT1S"}}}}))
    whatif = await run_starter(["sla", "what-if", "--policy", str(strict), "--category", "spam_sms", "--json",
                                "--as", "sup-zhang"], cli_engine.env)
    assert whatif.returncode == 0, str(whatif)
    answer = json.loads(whatif.stdout)
    assert answer["policy"] == "strict-spam"
    # Met as recorded; under a one-second deadline it would have warned or breached.
    assert any(flip["complaint_id"] == case and flip["before"] == "met" and flip["after"] != "met"
               for flip in answer["flips"])
    assert await chain(cli_engine.pool) == before  # what-if wrote nothing

    report = await run_starter(["sla", "report", "--by", "category", "--csv", "--as", "auditor"], cli_engine.env)
    assert report.returncode == 0, str(report)
    header, *rows = report.stdout.splitlines()
    assert header.startswith("category,cases,met,breached") and any(r.startswith("spam_sms,") for r in rows)

    refused = await run_starter(["sla", "report", "--as", "customer"], cli_engine.env)
    assert refused.returncode != 0 and "supervisors" in refused.stderr
