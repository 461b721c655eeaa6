"""Replay the recorded histories of finished cases against today's workflow code.

A change to workflow code that would break cases already running (a step added, removed or
reordered without `workflow.patched()`) makes the replay of some recorded history fail here, in
the build, instead of in production. Re-record with `python -m tests.replay.record` only after a
deliberate change, and see its docstring first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from domain.cases import Category
from tests.replay.keys import REPLAY_DATA_CONVERTER
from workflows.complaint import ComplaintWorkflow
from workflows.validity_follow_up import ValidityFollowUpWorkflow

# Today's recordings, and in a folder of its own each earlier build's whose runs a new worker may still meet
# (e.g. before-events-ride: those runs take the old branches of their workflow.patched calls).
RECORDED = Path(__file__).parent / "histories"
HISTORIES = sorted(RECORDED.rglob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def _workflow_type(path: Path) -> str:
    first = json.loads(path.read_text(encoding="utf-8"))["events"][0]
    return str(first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])


def _replayer() -> Replayer:
    # The SDK's default sandbox, stricter than the worker's: the worker passes the per-case workflows' modules
    # through (worker.PER_CASE_WORKFLOW_MODULES, for memory); here each replay imports them afresh and checks
    # their calls, so a non-deterministic call added to them fails in this suite.
    return Replayer(
        workflows=[ComplaintWorkflow, ValidityFollowUpWorkflow],
        data_converter=REPLAY_DATA_CONVERTER,
        workflow_runner=SandboxedWorkflowRunner(),
    )


def test_the_replays_check_the_modules_the_worker_passes_through() -> None:
    # Imported here: this module is imported into the sandbox too (for _ReorderedComplaintWorkflow).
    from worker import PER_CASE_WORKFLOW_MODULES, WORKFLOW_RUNNER

    assert {ComplaintWorkflow.__module__, ValidityFollowUpWorkflow.__module__} == set(PER_CASE_WORKFLOW_MODULES)
    assert set(PER_CASE_WORKFLOW_MODULES) <= WORKFLOW_RUNNER.restrictions.passthrough_modules
    runner = _replayer().config()["workflow_runner"]
    assert isinstance(runner, SandboxedWorkflowRunner)
    assert not set(PER_CASE_WORKFLOW_MODULES) & runner.restrictions.passthrough_modules


@pytest.mark.parametrize("path", HISTORIES, ids=[str(path.relative_to(RECORDED).with_suffix("")) for path in HISTORIES])
async def test_a_recorded_history_replays_on_todays_code(path: Path) -> None:
    result = await _replayer().replay_workflow(_load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name} no longer replays: {result.replay_failure!r}"


def test_every_category_and_every_workflow_has_recorded_histories() -> None:
    todays = sorted(RECORDED.glob("*.json"))
    recorded = {path.stem.split("--")[0] for path in todays}
    missing = {category.value for category in Category} - recorded
    assert not missing, f"no recorded history of {sorted(missing)}: run python -m tests.replay.record"
    types = {_workflow_type(path) for path in todays}
    # Closed cases are archived by a long-lived batch archiver (workflows/archiver.py), not a child per case.
    assert types == {"ComplaintWorkflow", "ValidityFollowUpWorkflow"}, types


@workflow.defn(name="ComplaintWorkflow")
class _ReorderedComplaintWorkflow:
    """A deploy gone wrong: the case starts with a timer where the real code runs an activity."""

    @workflow.run
    async def run(self, start: object) -> None:
        await workflow.sleep(1)


async def test_a_changed_workflow_fails_the_replay() -> None:
    """The check itself works: the same history against code that takes another first step fails."""
    history = _load(next(p for p in HISTORIES if p.stem == "forwarding_cancel--story-forwarding"))
    replayer = Replayer(workflows=[_ReorderedComplaintWorkflow], data_converter=REPLAY_DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
