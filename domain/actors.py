"""Who did something to a case, in which role, through which channel: nothing changes a case anonymously."""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


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

    @field_validator("id", mode="before")
    @classmethod
    def _normalised(cls, value: Any) -> Any:
        """One person, one id: `SUP-LI`, ` sup-li ` and `ＳＵＰ-ＬＩ` (full width) are all `sup-li`."""
        return normalise_actor_id(value) if isinstance(value, str) else value

    def __str__(self) -> str:
        return f"{self.id} ({self.role.value}, {self.channel.value})"


def normalise_actor_id(raw: str) -> str:
    """The canonical form of an actor id: compatibility forms folded (NFKC), case folded, outer space trimmed.

    Rules that compare people (the filer may not approve) compare these, so spelling cannot dodge them.
    """
    return unicodedata.normalize("NFKC", raw).strip().casefold()


ENGINE = Actor(id="engine", role=Role.SYSTEM, channel=ActorChannel.ENGINE)

# Who may approve an adjustment above the agent's limit.
APPROVER_ROLES = frozenset({Role.SUPERVISOR, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT})

# Who may relay a customer's answer on the customer's behalf (a person who spoke with them).
RELAY_ROLES = frozenset({Role.AGENT, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT, Role.SUPERVISOR})
ON_BEHALF_OF_CUSTOMER = "customer"
