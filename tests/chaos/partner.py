"""The partner sandbox for chaos runs: the real app, plus a count of the faults it injected.

The count comes from an outer middleware that sees every answer leaving a partner endpoint: the
sandbox answers 503 only when a fault is injected (`fail_next`, `lose_next`, `error_rate`), so the
503s it sends are the faults the soak reports.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from sandboxes.partner_carrier import make_app
from stories.forwarding_cancel import FORWARDING_CUSTOMER

PARTNER_PATH_PREFIXES = ("/carriers/", "/agents/")
# China Unicom ranges (see domain.msisdn): armed numbers the seed does not use.
UNICOM_PREFIXES = ("130", "131", "132", "155", "156", "185", "186")


@dataclass
class FaultCounter:
    injected: int = 0


@dataclass
class ChaosPartner:
    """A running partner sandbox and the faults it has injected so far."""

    url: str
    runner: web.AppRunner
    counter: FaultCounter

    async def stop(self) -> None:
        await self.runner.cleanup()

    @property
    def faults_injected(self) -> int:
        return self.counter.injected

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.url}{path}", json=body) as response,
        ):
            response.raise_for_status()
            answer: dict[str, Any] = await response.json()
            return answer

    async def reset(self) -> None:
        await self._call("POST", "/admin/reset")
        self.counter.injected = 0

    async def faults(self, **settings: Any) -> dict[str, Any]:
        return await self._call("POST", "/admin/faults", settings)

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/admin/faults")

    async def stats(self) -> dict[str, Any]:
        return await self._call("GET", "/admin/stats")

    async def arm(
        self,
        msisdn: str,
        *,
        id_number: str = FORWARDING_CUSTOMER.id_number,
        holder_name: str = FORWARDING_CUSTOMER.name,
    ) -> None:
        """An active forwarding on `msisdn` to the forwarding customer's China Mobile number."""
        await self._call(
            "PUT",
            f"/carriers/china_unicom/forwardings/{msisdn}",
            {"holder_name": holder_name, "id_number": id_number, "forward_to": FORWARDING_CUSTOMER.msisdn},
        )


def unicom_number(rng: random.Random) -> str:
    """A random China Unicom number, never the seed's own."""
    while True:
        number = rng.choice(UNICOM_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if number != FORWARDING_CUSTOMER.partner_msisdn:
            return number


async def start_chaos_partner(seed: int = 0) -> ChaosPartner:
    counter = FaultCounter()

    @web.middleware
    async def count_faults(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if response.status == 503 and request.path.startswith(PARTNER_PATH_PREFIXES):
            counter.injected += 1
        return response

    app = make_app(seed=seed)
    # Outermost, so it sees the 503s the sandbox's own fault middleware answers with.
    app.middlewares.insert(0, count_faults)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    return ChaosPartner(url=f"http://127.0.0.1:{port}", runner=runner, counter=counter)
