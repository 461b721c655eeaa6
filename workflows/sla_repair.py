"""The `repair_sla` update of a case, apart from the playbooks: `starter sla repair --apply` sends it.

Installed by ComplaintWorkflow as a dynamic update handler (`install`), so this file holds all of it. The
corrected calendar days are asked of the worker's own policy, never taken from the caller; whether the
deadlines move is decided in domain/sla_repair.py, and the change is recorded as an `SlaRecalculated`
event with the reason and the actor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.policy import PolicyActivities
    from auth import trust
    from domain import events as ev
    from domain.actors import Actor, Role
    from domain.errors import InvalidCommand
    from domain.sla_repair import recalculation
    from workflows.messages import Act, SlaRepair

if TYPE_CHECKING:
    from workflows.case import Case

REPAIR_SLA = "repair_sla"
REPAIRERS = (Role.SUPERVISOR, Role.REGIONAL_SUPPORT)


def install_repair_sla(case: Case, verified: Callable[[Act], Actor], require_open: Callable[[], None]) -> None:
    """Register the `repair_sla` update on the running workflow (call from its __init__).

    Args:
        case: the workflow's case.
        verified: the workflow's token check, for validators (the actor a request's token proves).
        require_open: raises InvalidCommand when the case is closed.
    """

    async def repair_sla(request: SlaRepair) -> str:
        answer = await workflow.execute_local_activity_method(
            PolicyActivities.current_calendar_days, start_to_close_timeout=timedelta(seconds=30)
        )
        change = recalculation(case.current, answer.days)
        if change is None:
            return "unchanged"
        case.record(
            ev.SlaRecalculated,
            actor=trust.claims_of_verified(request.token).actor(request.channel),
            calendar=change.calendar,
            regulator_calendar=change.regulator_calendar,
            policy_version=answer.policy_version,
            reason=request.reason,
        )
        await case.save()
        return "recalculated"

    def validate(request: SlaRepair) -> None:
        if verified(request).role not in REPAIRERS:
            raise InvalidCommand("an SLA repair is a supervisor's or regional support's")
        require_open()

    workflow.set_update_handler(REPAIR_SLA, repair_sla, validator=validate)
