"""ArchiveCaseWorkflow: copy a closed case's full Temporal history into PostgreSQL (placeholder)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import workflow


class ArchiveRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    run_id: str


@workflow.defn
class ArchiveCaseWorkflow:
    @workflow.run
    async def run(self, request: ArchiveRequest) -> int:
        return 0
