"""When a closed case may be reopened instead of filed anew."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.errors import InvalidCommand
from domain.state import ComplaintState


def check_reopen(state: ComplaintState, now: datetime, window: timedelta) -> None:
    """Raise InvalidCommand unless the case is closed (not rejected at intake) no longer than `window` ago."""
    if state.is_open or state.closed_at is None:
        raise InvalidCommand(f"case {state.complaint_id} is still open ({state.status.value}): nothing to reopen")
    if state.rejection is not None:
        raise InvalidCommand(
            f"case {state.complaint_id} was not accepted at intake ({state.rejection.rule}): there is nothing "
            "to reopen; file a new complaint if the customer disputes something else"
        )
    if state.personal_data_erased_at is not None:
        raise InvalidCommand(
            f"case {state.complaint_id}: the customer's personal data was erased on "
            f"{state.personal_data_erased_at:%Y-%m-%d}: file a new complaint instead"
        )
    if now - state.closed_at > window:
        raise InvalidCommand(
            f"case {state.complaint_id} closed on {state.closed_at:%Y-%m-%d}, more than {window.days} days ago: "
            "file a new complaint that refers to it"
        )
