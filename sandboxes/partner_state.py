"""The partner sandbox's memory: who forwards where, what the agent stores sold, counters and faults.

Seeded from the stories' partner records (`PARTNER_RECORDS` in stories/<category>.py); `reset()` goes
back to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sandboxes.partner_records import AgentSale, PartnerRecords
from stories import story_modules

# --- state ---------------------------------------------------------------------------------------


@dataclass
class Subscriber:
    """A number at a partner carrier: its holder and its call forwarding."""

    holder_name: str
    id_number: str
    forward_to: str | None
    active: bool
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class AgentStore:
    name: str
    sales: dict[str, AgentSale]


def _story_records() -> list[PartnerRecords]:
    return [module.PARTNER_RECORDS for module in story_modules() if hasattr(module, "PARTNER_RECORDS")]


def _seed_subscribers() -> dict[tuple[str, str], Subscriber]:
    return {
        (record.carrier, record.msisdn): Subscriber(
            holder_name=record.holder_name, id_number=record.id_number, forward_to=record.forward_to, active=True
        )
        for records in _story_records()
        for record in records.forwardings
    }


def _seed_agents() -> dict[str, AgentStore]:
    agents: dict[str, AgentStore] = {}
    for records in _story_records():
        for record in records.sales:
            agent = agents.setdefault(record.agent_code, AgentStore(name=record.agent_name, sales={}))
            # A copy: the sandbox hands the remedy out, and nothing it does may change the story's.
            agent.sales[record.msisdn] = AgentSale(
                plan_code=record.sale.plan_code,
                tariff_explained=record.sale.tariff_explained,
                finding=record.sale.finding,
                remedy=dict(record.sale.remedy),
            )
    return agents


@dataclass
class Stats:
    cancel_requests: int = 0
    effective_cancels: int = 0
    by_msisdn: dict[str, dict[str, int]] = field(default_factory=dict)
    joint_verifications: int = 0

    def count_cancel(self, msisdn: str, *, effective: bool) -> None:
        """Count one cancel request for the number, and whether it took effect."""
        entry = self.by_msisdn.setdefault(msisdn, {"requests": 0, "effective": 0})
        entry["requests"] += 1
        self.cancel_requests += 1
        if effective:
            entry["effective"] += 1
            self.effective_cancels += 1

    def as_json(self) -> dict[str, Any]:
        """The counts as JSON, for the stats endpoint."""
        return {
            "cancel_requests": self.cancel_requests,
            "effective_cancels": self.effective_cancels,
            "by_msisdn": {msisdn: dict(entry) for msisdn, entry in self.by_msisdn.items()},
            "joint_verifications": self.joint_verifications,
        }


class FaultSettings(BaseModel):
    """The body of POST /admin/faults; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(default=None, ge=0, le=60_000, strict=True)
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    fail_next: int | None = Field(default=None, ge=0, strict=True)
    lose_next: int | None = Field(default=None, ge=0, strict=True)
    seed: int | None = Field(default=None, strict=True)


@dataclass
class Faults:
    """Injected latency and transient failures, drawn from a seedable generator so runs repeat."""

    seed: int
    latency_ms: int = 0
    error_rate: float = 0.0
    fail_next: int = 0  # the next n partner requests get a 503 and are not applied
    lose_next: int = 0  # the next n partner requests are applied, then answered with a 503
    random: Random = field(init=False)

    def __post_init__(self) -> None:
        self.random = Random(self.seed)

    def update(self, settings: FaultSettings) -> None:
        """Apply the settings given; the ones left out keep their values (a new seed restarts the draws)."""
        for name in ("latency_ms", "error_rate", "fail_next", "lose_next"):
            value = getattr(settings, name)
            if value is not None:
                setattr(self, name, value)
        if settings.seed is not None:
            self.seed = settings.seed
            self.random.seed(settings.seed)

    def take_failure(self) -> bool:
        """Whether this request fails before it is applied. Uses up one of `fail_next` first."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        # Draw only when a rate is set, so turning faults on does not shift an unrelated sequence.
        return self.error_rate > 0 and self.random.random() < self.error_rate

    def take_loss(self) -> bool:
        """Whether this request is applied but its answer lost. Uses up one of `lose_next`."""
        if self.lose_next > 0:
            self.lose_next -= 1
            return True
        return False

    def as_json(self) -> dict[str, Any]:
        """The fault settings as JSON, for the faults endpoint."""
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "fail_next": self.fail_next,
            "lose_next": self.lose_next,
            "seed": self.seed,
        }


@dataclass
class PartnerState:
    """Everything the sandbox remembers; `reset()` goes back to the seed."""

    seed: int
    subscribers: dict[tuple[str, str], Subscriber] = field(default_factory=_seed_subscribers)
    agents: dict[str, AgentStore] = field(default_factory=_seed_agents)
    # request_key -> (what the request was about, the first answer), per endpoint
    cancel_answers: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    verification_answers: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    faults: Faults = field(init=False)

    def __post_init__(self) -> None:
        self.faults = Faults(seed=self.seed)

    def reset(self) -> None:
        """Put the subscribers, agents and answers back as seeded."""
        self.subscribers = _seed_subscribers()
        self.agents = _seed_agents()
        self.cancel_answers.clear()
        self.verification_answers.clear()
        self.stats = Stats()
        self.faults = Faults(seed=self.seed)
