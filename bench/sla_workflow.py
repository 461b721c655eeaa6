"""A bench-only workflow that runs the engine's own SLA watcher (`Case.watch_sla`) against a deadline
the benchmark picks, so thousands of real deadlines land in the same second of real time.

The engine's SLA policies are minutes to days long and ComplaintWorkflow takes them from
domain.sla, so the benchmark cannot shorten them; this workflow files a case the way ComplaintWorkflow
does, starts its resolve clock with a budget that ends at the chosen instant, and lets the same
Case code warn, breach, escalate, save and notify. The case then stays open, as a stalled case does;
everything the benchmark measures is read back from PostgreSQL (the events and the outbox).
"""

from __future__ import annotations

import math
from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import events as ev
    from domain.intake import ComplaintIntake
    from domain.policy import DEFAULT_WARN_PERCENT
    from domain.sla import RESOLVE, SlaPolicy
    from workflows.case import Case
    from workflows.messages import ComplaintInput


class SlaTimerInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    intake: ComplaintIntake
    msisdn_token: str
    due_at: AwareDatetime
    warn_percent: int = DEFAULT_WARN_PERCENT


@workflow.defn
class SlaTimerWorkflow:
    @workflow.run
    async def run(self, start: SlaTimerInput) -> None:
        intake = start.intake
        case = Case(ComplaintInput(intake=intake, msisdn_token=start.msisdn_token))
        case.record(
            ev.ComplaintFiled,
            actor=intake.filed_by,
            category=intake.category,
            priority=intake.priority,
            channel=intake.channel,
            msisdn=intake.msisdn,
            customer_name=intake.customer_name,
            description=intake.description,
            id_number=intake.id_number,
            partner_msisdn=intake.partner_msisdn,
            partner_carrier=intake.partner_carrier.value if intake.partner_carrier else None,
        )
        # Whole seconds, as the engine's clocks: the deadline lands within a second after `due_at`.
        budget = max(math.ceil((start.due_at - workflow.now()).total_seconds()), 1)
        case.record(ev.SlaClockStarted, clock=RESOLVE, budget_seconds=budget, warn_percent=start.warn_percent)
        await case.save()
        policy = SlaPolicy(
            acknowledge_within=timedelta(minutes=15),
            resolve_within=timedelta(seconds=budget),
            remind_customer_after=timedelta(hours=24),
            close_unconfirmed_after=timedelta(hours=72),
            # One escalation per run: the next rung would be an hour later.
            re_escalate_after=timedelta(hours=1),
        )
        # Stays open after escalating, as a stalled case does: the benchmark throws the server away.
        await case.watch_sla(policy)
