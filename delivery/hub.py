"""The hub's listeners (TMF621 `POST/GET/DELETE /hub`): who wants which events, at which callback.

Each listener gets its own `whsec_` secret at registration, returned that once; the relay signs with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import asyncpg

from delivery.signing import new_secret
from domain.hub_filter import BadHubQuery, parse_hub_query


class BadListener(ValueError):
    """A registration the hub refuses (a callback that is not an http(s) URL, an unreadable query)."""


@dataclass(frozen=True)
class Listener:
    id: str
    callback: str
    query: str
    registered_by: str
    registered_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None


_COLUMNS = "id, callback, query, registered_by, registered_at, disabled_at, disabled_reason"


def _listener(row: asyncpg.Record) -> Listener:
    return Listener(**{name: row[name] for name in _COLUMNS.split(", ")})


def check_callback(callback: str) -> str:
    """The callback, if it is an absolute http(s) URL with a host."""
    parts = urlsplit(callback)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadListener(f"callback {callback!r} is not an absolute http(s) URL")
    return callback


async def register(pool: asyncpg.Pool, callback: str, query: str | None, registered_by: str) -> tuple[Listener, str]:
    """Register a listener; returns it and its signing secret (which is not shown again)."""
    check_callback(callback)
    try:
        parse_hub_query(query)
    except BadHubQuery as error:
        raise BadListener(str(error)) from error
    secret = new_secret()
    row = await pool.fetchrow(
        f"""INSERT INTO hub_listeners (id, callback, query, secret, registered_by)
            VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
        uuid.uuid4().hex,
        callback,
        query or "",
        secret,
        registered_by,
    )
    return _listener(row), secret


async def get(pool: asyncpg.Pool, listener_id: str) -> Listener | None:
    """The listener of this id, or None when there is none or it was deleted."""
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS} FROM hub_listeners WHERE id = $1 AND deleted_at IS NULL", listener_id
    )
    return _listener(row) if row is not None else None


async def list_all(pool: asyncpg.Pool) -> list[Listener]:
    """Every registered listener, oldest first."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM hub_listeners WHERE deleted_at IS NULL ORDER BY registered_at, id"
    )
    return [_listener(row) for row in rows]


async def delete(pool: asyncpg.Pool, listener_id: str) -> bool:
    """Unregister; what was still to be sent to it is cancelled, saying why. False if there was none."""
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchval(
            "UPDATE hub_listeners SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id",
            listener_id,
        )
        if found is None:
            return False
        await cancel_pending(conn, listener_id, "listener unregistered")
    return True


async def cancel_pending(conn: asyncpg.Connection, listener_id: str, reason: str) -> None:
    """Cancel what is still to be sent to a listener that is gone or disabled, with the reason."""
    await conn.execute(
        """UPDATE webhook_deliveries SET status = 'cancelled', last_error = $2, leased_until = NULL
           WHERE listener_id = $1 AND status IN ('pending', 'dead')""",
        listener_id,
        reason,
    )
