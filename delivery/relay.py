"""The relay: delivers the TMF events to the hub's listeners and the notifications to their channel.

At least once: a delivery is marked done only after the listener said 2xx; a relay that dies mid-send
leaves its lease to run out, and the next relay sends the same message again with the same `webhook-id`.
In order per ticket (delivery/webhooks.py). Retried on the schedule (delivery/schedule.py), disabled on
410 Gone, and dead-lettered when the schedule is spent (delivery/dead_letters.py).

Any number of relays may run on one database (the worker's embedded one, the compose service): they
share the work through row leases, never send one delivery at the same time, and keep the order.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import asyncpg
import structlog

from delivery import notifications, webhooks
from delivery.notifications import MailboxSender, NotificationSender, OutboundNotification
from delivery.schedule import RelayConfig
from delivery.signing import signed_headers
from delivery.webhooks import Due

log = structlog.get_logger("delivery.relay")

_ERROR_TEXT_LIMIT = 300


class Relay:
    """One relay over the project database; `run` until stopped, or `run_once` a round at a time."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        sender: NotificationSender | None = None,
        config: RelayConfig | None = None,
    ) -> None:
        self._pool = pool
        self._sender = sender or MailboxSender(pool)
        self._config = config or RelayConfig()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Relay:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._config.request_timeout))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run_once(self) -> int:
        """One round: fan out, send what is due of both kinds; the number of attempts made."""
        config = self._config
        await webhooks.fan_out(self._pool, config.batch_size)
        due = await webhooks.take_due(self._pool, config.batch_size, config.lease)
        outbound = await notifications.take_due(self._pool, config.batch_size, config.lease)
        # At most one delivery per listener and ticket is due at once, so these may go side by side.
        await asyncio.gather(*(self._send_webhook(d) for d in due), *(self._send_notification(n) for n in outbound))
        return len(due) + len(outbound)

    async def run(self, stop: asyncio.Event, *, heartbeat: Callable[[], None] | None = None) -> None:
        """Rounds until `stop` is set; an idle relay waits `poll_seconds` between them.

        `heartbeat` is called after every round that reached the database (the service's healthcheck reads it).
        """
        log.info("relay running")
        while not stop.is_set():
            try:
                worked = await self.run_once()
                if heartbeat is not None:
                    heartbeat()
            except Exception as error:
                # The database away for a moment, say. Nothing is lost (leases run out and what was taken is
                # sent again), and the relay must not die quietly beside a worker that goes on: log, go on.
                log.error("relay round failed", error_type=type(error).__name__,
                          error=str(error)[:_ERROR_TEXT_LIMIT])
                worked = 0
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._config.poll_seconds)
        log.info("relay stopped")

    async def _send_webhook(self, due: Due) -> None:
        assert self._session is not None, "use the relay as an async context manager"
        headers = signed_headers(due.secret, due.message_id, int(time.time()), due.body)
        status: int | None = None
        try:
            async with self._session.post(due.callback, data=due.body, headers=headers) as response:
                status = response.status
                await response.read()
        except Exception as error:  # refused, timed out, or anything else: a failed attempt, with its reason
            await self._failed(due, None, f"{type(error).__name__}: {error}")
            return
        if 200 <= status < 300:
            await webhooks.delivered(self._pool, due, status)
            log.debug("webhook delivered", delivery=due.message_id, listener=due.listener_id, attempt=due.attempts)
        elif status == 410:
            await webhooks.gone(self._pool, due)
            log.warning("webhook endpoint gone: listener disabled", listener=due.listener_id)
        else:
            await self._failed(due, status, f"answered {status}")

    async def _failed(self, due: Due, status: int | None, error: str) -> None:
        wait = self._config.next_wait(due.attempts)
        await webhooks.failed(self._pool, due, status, error[:_ERROR_TEXT_LIMIT], wait)
        log.warning(
            "webhook attempt failed" if wait else "webhook dead-lettered",
            delivery=due.message_id, listener=due.listener_id, attempt=due.attempts, error=error[:_ERROR_TEXT_LIMIT],
            retry_in_seconds=wait.total_seconds() if wait else None,
        )

    async def _send_notification(self, notification: OutboundNotification) -> None:
        try:
            await self._sender.send(notification)
        except Exception as error:  # a refusal, or anything else the channel raised: a failed attempt, said why
            wait = self._config.next_wait(notification.attempts)
            text = f"{type(error).__name__}: {error}"[:_ERROR_TEXT_LIMIT]
            await notifications.failed(self._pool, notification, text, wait)
            log.warning("notification attempt failed" if wait else "notification dead-lettered",
                        notification=notification.id, attempt=notification.attempts, error=text)
            return
        await notifications.delivered(self._pool, notification)


@contextlib.asynccontextmanager
async def relay_running(
    pool: asyncpg.Pool, *, sender: NotificationSender | None = None, config: RelayConfig | None = None
) -> AsyncIterator[Relay]:
    """A relay running in the background for the block (the worker embeds one this way)."""
    stop = asyncio.Event()
    async with Relay(pool, sender=sender, config=config) as relay:
        task = asyncio.create_task(relay.run(stop), name="relay")
        try:
            yield relay
        finally:
            stop.set()
            await task
