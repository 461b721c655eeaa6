"""The stock Temporal Web UI tells the story too: a complaint's run carries a static summary (category,
masked number, priority) and current details that follow the case; no number in clear."""

from __future__ import annotations

from temporalio.api.sdk.v1 import WorkflowMetadata

from tests.cli.conftest import CliEngine
from tests.helpers import forwarding_intake, wait_for_question


async def test_a_complaint_run_has_a_summary_and_current_details(cli_engine: CliEngine) -> None:
    client = cli_engine.client
    intake = forwarding_intake()
    await client.file(intake)
    view = await wait_for_question(client, intake.complaint_id)
    assert view.state.pending_question is not None
    handle = client.temporal.get_workflow_handle(intake.complaint_id)

    described = await handle.describe()
    summary = await described.static_summary()
    details = await described.static_details()
    masked = intake.msisdn[:3] + "****" + intake.msisdn[-4:]
    assert summary == f"Complaint · forwarding_cancel · {masked} · normal"
    assert details is not None and f"starter show {intake.complaint_id}" in details
    assert intake.msisdn not in summary + details

    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    current = metadata.current_details
    assert current.startswith(f"**{view.state.status.value}**"), current
    assert f"waiting for the customer: {view.state.pending_question.question}" in current, current
    assert intake.msisdn not in current
    await handle.terminate("test over")
