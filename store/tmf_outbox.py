"""The TMF event outbox: written by the event store's append statement, read by the relay (delivery/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from domain.events import Event


class OutboxBatch:
    """The TMF events of one append, gathered column by column as the insert takes them."""

    def __init__(self) -> None:
        self._event_ids: list[str] = []
        self._seqs: list[int] = []
        self._ordinals: list[int] = []
        self._types: list[str] = []
        self._times: list[datetime] = []
        self._bodies: list[str] = []

    def add(self, event: Event, bodies: list[dict[str, Any]]) -> None:
        """Queue the TMF event bodies `event` gives rise to (domain/tmf_events.py), in their order."""
        for ordinal, body in enumerate(bodies):
            self._event_ids.append(body["eventId"])
            self._seqs.append(event.seq)
            self._ordinals.append(ordinal)
            self._types.append(body["eventType"])
            self._times.append(event.at)
            self._bodies.append(orjson.dumps(body).decode())

    def columns(self) -> tuple[list[Any], ...]:
        """The queued events column by column, as the append's statement takes them (store/append_batch.py)."""
        return self._event_ids, self._seqs, self._ordinals, self._types, self._times, self._bodies
