"""What every command shares: the events it decides, numbered after the case and stamped with its time.

A command is a pure function: the case's state (the fold of its events), the command, the time and, where
it matters, the server's policy go in; the events the case should record come out, or a domain error
(domain.errors) says why not. Nothing here records anything: the workflow commits what a command returns,
and its update validators call the same function as a dry run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from domain import events as ev
from domain.actors import ENGINE, Actor
from domain.errors import InvalidCommand
from domain.state import ComplaintState

E = TypeVar("E", bound=ev.Event)


class Decision:
    """The events one command decides, in order: numbered after `last_seq`, all stamped `now`."""

    def __init__(self, complaint_id: str, last_seq: int, now: datetime) -> None:
        self.complaint_id = complaint_id
        self.now = now
        self._last_seq = last_seq
        self.events: list[ev.Event] = []

    @classmethod
    def on(cls, state: ComplaintState, now: datetime) -> Decision:
        """A decision about an existing case: its events follow the case's last one."""
        return cls(state.complaint_id, state.last_seq, now)

    def add(self, event_type: type[E], actor: Actor = ENGINE, **fields: Any) -> E:
        """Decide one more event of `event_type`, by `actor` (the engine unless a person acts)."""
        event = event_type(
            complaint_id=self.complaint_id,
            seq=self._last_seq + len(self.events) + 1,
            at=self.now,
            actor=actor,
            **fields,
        )
        self.events.append(event)
        return event


def require_open(state: ComplaintState) -> None:
    """Raise InvalidCommand when the case is closed: a closed case takes no more commands but reopen."""
    if not state.is_open:
        raise InvalidCommand(f"case {state.complaint_id} is closed")
