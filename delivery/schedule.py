"""When the relay tries again, and how long a relay holds what it took."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# Standard Webhooks' schedule, as the issue asks: after the first attempt fails, try again after each of these.
# Once the last one fails too, the delivery goes to the dead-letter list.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)


@dataclass(frozen=True)
class RelayConfig:
    """How a relay works. Tests pass a schedule of milliseconds; production keeps the defaults.

    Attributes:
        retry_schedule: the waits between attempts; one attempt more than its length, then dead.
        lease: how long a taken delivery is held; a relay that dies mid-send gives it up when this runs out,
            and another (or the same, restarted) sends it again with the same webhook-id.
        request_timeout: seconds a listener has to answer one attempt (a timeout counts as a failure).
        poll_seconds: how long an idle relay waits before looking for work again.
        batch_size: deliveries taken per round.
    """

    retry_schedule: tuple[timedelta, ...] = RETRY_SCHEDULE
    lease: timedelta = timedelta(seconds=60)
    request_timeout: float = 15.0
    poll_seconds: float = 1.0
    batch_size: int = 50

    def __post_init__(self) -> None:
        # A lease shorter than a request would hand a delivery still in flight to a second relay.
        if self.lease.total_seconds() <= self.request_timeout:
            raise ValueError("the relay's lease must outlast its request timeout")

    def next_wait(self, attempts: int) -> timedelta | None:
        """The wait after `attempts` failed attempts, or None when none is left (dead letter)."""
        return self.retry_schedule[attempts - 1] if attempts <= len(self.retry_schedule) else None
