"""Who did something to a case, in which role, through which channel: nothing changes a case anonymously."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    STORE_MANAGER = "store_manager"
    REGIONAL_SUPPORT = "regional_support"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    SYSTEM = "system"


class ActorChannel(StrEnum):
    STORE = "store"
    HOTLINE = "hotline"
    WEB = "web"
    CLI = "cli"
    API = "api"
    ENGINE = "engine"


class Actor(BaseModel):
    """A person or the engine itself acting on a case."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f]+$")
    role: Role
    channel: ActorChannel = ActorChannel.API

    def __str__(self) -> str:
        return f"{self.id} ({self.role.value}, {self.channel.value})"


ENGINE = Actor(id="engine", role=Role.SYSTEM, channel=ActorChannel.ENGINE)

# Who may approve an adjustment above the agent's limit.
APPROVER_ROLES = frozenset({Role.SUPERVISOR, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT})
