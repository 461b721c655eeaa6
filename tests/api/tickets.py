"""Ticket bodies and waiting helpers for the API tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.api.conftest import BASE

POLL_SECONDS = 0.1


def forwarding_ticket(msisdn: str = FORWARDING_CUSTOMER.msisdn, **overrides: Any) -> dict[str, Any]:
    """A TMF TroubleTicket_FVO for the seed's forwarding story."""
    body: dict[str, Any] = {
        "@type": "ComplaintTroubleTicket",
        "description": "改号通知后联通手机无法接听电话, 要求半小时内解决",
        "severity": "Major",
        "ticketType": "forwarding_cancel",
        "channel": {"id": "store", "name": "store", "@type": "ChannelRef"},
        "relatedParty": [{
            "role": "customer",
            "@type": "RelatedPartyRefOrPartyRoleRef",
            "partyOrPartyRole": {"id": msisdn, "name": FORWARDING_CUSTOMER.name, "@type": "PartyRoleRef",
                                 "@referredType": "Customer"},
        }],
        "customerIdNumber": FORWARDING_CUSTOMER.id_number,
        "partnerNumber": FORWARDING_CUSTOMER.partner_msisdn,
    }
    body.update(overrides)
    return body


async def get_until(
    http: httpx.AsyncClient, ticket_id: str, headers: dict[str, str], ready: Callable[[dict[str, Any]], bool],
    what: str, attempts: int = 300,
) -> dict[str, Any]:
    """GET the ticket until `ready` holds (the case works in real time on the dev server)."""
    done, ticket = await _read_until(http, f"{BASE}/troubleTicket/{ticket_id}", {}, headers, ready, attempts)
    if not done:
        raise AssertionError(f"ticket {ticket_id} never reached: {what}; last seen {ticket.get('status')}")
    return ticket


async def list_until(
    http: httpx.AsyncClient, params: dict[str, Any], headers: dict[str, str],
    ready: Callable[[list[dict[str, Any]]], bool], what: str, attempts: int = 300,
) -> list[dict[str, Any]]:
    """GET the list until `ready` holds: a case shows in it once its first events are stored (api/listing.py)."""
    done, rows = await _read_until(http, f"{BASE}/troubleTicket", params, headers, ready, attempts)
    if not done:
        raise AssertionError(f"the list never showed {what}; last seen {[row.get('id') for row in rows]}")
    return rows


async def _read_until(
    http: httpx.AsyncClient, url: str, params: dict[str, Any], headers: dict[str, str],
    ready: Callable[[Any], bool], attempts: int,
) -> tuple[bool, Any]:
    """GET `url` until `ready` holds of its JSON: whether it did, and the last body read."""
    body: Any = None
    for _ in range(attempts):
        response = await http.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        if ready(body := response.json()):
            return True, body
        await asyncio.sleep(POLL_SECONDS)
    return False, body
