"""bill_discrepancy: not written yet (placeholder so the registry and worker are wired)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case import Case


async def run(case: Case) -> None:
    raise NotImplementedError("the bill_discrepancy playbook is not written yet")
