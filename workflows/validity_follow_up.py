"""ValidityFollowUpWorkflow: the deferred remedy of validity_shortened (placeholder)."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class ValidityFollowUpWorkflow:
    @workflow.run
    async def run(self, complaint_id: str) -> str:
        return "not written yet"
