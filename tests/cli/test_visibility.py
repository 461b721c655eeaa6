"""Roles decide what is visible: a customer's login reads only that customer's cases, and an audit export
carries personal data in clear only for a login with the pii:read scope."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from domain.actors import Actor, Role
from tests.cli.conftest import CliEngine
from tests.cli.starter_process import run_starter
from tests.cli.test_readme import view_until
from tests.helpers import forwarding_intake, wait_for_question
from tests.identity import cache_login

OTHER_NUMBER = "13905716601"


async def test_a_customer_sees_only_their_own_cases(cli_engine: CliEngine) -> None:
    own = forwarding_intake()
    other = forwarding_intake(msisdn=OTHER_NUMBER)
    for intake in (own, other):
        await cli_engine.client.file(intake)
        await view_until(cli_engine.client, intake.complaint_id, lambda view: True, "opened")
    data_dir = Path(cli_engine.env["COMPLAINTS_DATA_DIR"])
    cache_login(data_dir, Actor(id="cust-6601", role=Role.CUSTOMER), msisdn=own.msisdn)
    as_customer = ["--as", "cust-6601"]

    mine = await run_starter(["show", own.complaint_id, *as_customer], cli_engine.env)
    assert mine.returncode == 0 and own.complaint_id in mine.stdout, str(mine)
    for command in (["show", other.complaint_id], ["history", other.complaint_id]):
        refused = await run_starter([*command, *as_customer], cli_engine.env)
        assert refused.returncode == 1 and "a customer sees only their own" in refused.stderr, str(refused)
        assert other.msisdn not in refused.stdout + refused.stderr
    for _ in range(50):  # visibility is eventually consistent
        listed = await run_starter(["list", "--all", "--json", *as_customer], cli_engine.env)
        ids = [row["complaint_id"] for row in json.loads(listed.stdout)]
        if own.complaint_id in ids:
            break
    # Whatever filter the customer asks for, the list is narrowed to their own number's cases.
    assert own.complaint_id in ids and other.complaint_id not in ids, listed.stdout
    for intake in (own, other):
        await cli_engine.client.temporal.get_workflow_handle(intake.complaint_id).terminate("test over")


async def test_an_auditor_export_has_personal_data_only_with_the_pii_scope(cli_engine: CliEngine) -> None:
    intake = forwarding_intake().model_copy(update={"complaint_id": f"CLI-{uuid.uuid4().hex[:8]}-export"})
    await cli_engine.client.file(intake)
    await wait_for_question(cli_engine.client, intake.complaint_id)
    assert intake.id_number is not None

    masked = await run_starter(["export", intake.complaint_id, "--as", "auditor"], cli_engine.env)
    assert masked.returncode == 0, str(masked)
    for personal in (intake.msisdn, intake.id_number, intake.customer_name):
        assert personal not in masked.stdout
    bundle = json.loads(masked.stdout)
    filed = bundle["events"][0]["event"]
    assert bundle["personal_data"] == "masked" and filed["msisdn"] == intake.msisdn[:3] + "****" + intake.msisdn[-4:]

    clear = await run_starter(["export", intake.complaint_id, "--as", "auditor-pii"], cli_engine.env)
    assert clear.returncode == 0, str(clear)
    filed = json.loads(clear.stdout)["events"][0]["event"]
    assert (filed["msisdn"], filed["id_number"], filed["customer_name"]) == (
        intake.msisdn, intake.id_number, intake.customer_name
    )
    await cli_engine.client.temporal.get_workflow_handle(intake.complaint_id).terminate("test over")
