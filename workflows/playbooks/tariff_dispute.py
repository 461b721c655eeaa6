"""tariff_dispute: not written yet (placeholder so the registry and worker are wired)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case import Case


async def run(case: Case) -> None:
    raise NotImplementedError("the tariff_dispute playbook is not written yet")
