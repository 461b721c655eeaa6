"""The envelope every domain event shares: its case id, sequence, time, actor and schema version.

Its own module so that the groups of events kept apart from domain.events (domain.sla_events) build on it without
importing the module that re-exports them.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.actors import Actor
from domain.upcasting import upcast


class Event(BaseModel):
    """Envelope shared by every event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    version: int = 1
    complaint_id: str
    seq: int = Field(ge=1)
    at: AwareDatetime
    actor: Actor

    @model_validator(mode="before")
    @classmethod
    def _current_shape(cls, data: Any) -> Any:
        """An older version's JSON form (a stored event) is read in the current shape (domain.upcasting)."""
        return upcast(data) if isinstance(data, dict) else data
