"""A sandbox of the partners a store deals with: other carriers and the agent stores that sell our numbers.

One aiohttp app, in-memory state seeded from the seed's stories:

- the forwarding case: FORWARDING_CUSTOMER's old China Unicom number still forwards calls to the new
  China Mobile number; the partner cancels it only after checking the holder's name and ID number
  (the store called 10010 and did exactly that);
- the tariff case: agent store AG-HZ-017 sold 13758250617 on plan SZX-58 without explaining the tariff;
  a joint verification with the store agrees a remedy.

It behaves like a remote partner should be expected to: it checks identity, answers idempotently by
request key, and on demand adds latency and transient 503s (POST /admin/faults) so retries are tested
for real. `lose_next` even applies a request and then answers 503, the case where only an idempotent
retry is safe.

Run it with `python -m sandboxes.partner_carrier --port 8787`; see --help.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import Random
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from domain.identity import parse_id_number
from domain.masking import scrub
from domain.money import format_yuan
from domain.msisdn import parse_msisdn
from domain.validation import describe
from sandboxes.seed_data import (
    FORWARDING_CUSTOMER,
    TARIFF_AGENT_CODE,
    TARIFF_AGENT_NAME,
    TARIFF_CUSTOMER,
    TARIFF_PLAN_CODE,
)

CARRIERS = ("china_unicom", "china_telecom")

# The tariff story: the number, the shop that sold it and what the joint verification agrees.
TARIFF_MSISDN = TARIFF_CUSTOMER.msisdn
TARIFF_REFUND_FEN = 3000
TARIFF_NEW_PLAN_CODE = "SZX-18"
TARIFF_REMEDY = {
    "kind": "refund_plan_difference",
    "amount_fen": TARIFF_REFUND_FEN,
    "new_plan_code": TARIFF_NEW_PLAN_CODE,
}
TARIFF_FINDING = (
    f"代销店售卡时未向客户说明{TARIFF_PLAN_CODE}套餐资费；双方协商：退还套餐差价"
    f"{format_yuan(TARIFF_REFUND_FEN)}，改为{TARIFF_NEW_PLAN_CODE}套餐"
)

# Paths that behave like a remote partner and therefore suffer the injected faults.
_PARTNER_PATH = re.compile(r"^/(carriers|agents)/")

log = structlog.get_logger("sandboxes.partner_carrier")


def _now() -> datetime:
    return datetime.now(UTC)


# --- state ---------------------------------------------------------------------------------------


@dataclass
class Subscriber:
    """A number at a partner carrier: its holder and its call forwarding."""

    holder_name: str
    id_number: str
    forward_to: str | None
    active: bool
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class AgentSale:
    """A number an agent store sold, and what a joint verification of that sale finds."""

    plan_code: str
    tariff_explained: bool
    finding: str
    remedy: dict[str, Any]


@dataclass(frozen=True)
class AgentStore:
    name: str
    sales: dict[str, AgentSale]


def _seed_subscribers() -> dict[tuple[str, str], Subscriber]:
    customer = FORWARDING_CUSTOMER
    return {
        (customer.partner_carrier, customer.partner_msisdn): Subscriber(
            holder_name=customer.name,
            id_number=customer.id_number,
            forward_to=customer.msisdn,
            active=True,
        )
    }


def _seed_agents() -> dict[str, AgentStore]:
    return {
        TARIFF_AGENT_CODE: AgentStore(
            name=TARIFF_AGENT_NAME,
            sales={
                TARIFF_MSISDN: AgentSale(
                    plan_code=TARIFF_PLAN_CODE,
                    tariff_explained=False,
                    finding=TARIFF_FINDING,
                    remedy=dict(TARIFF_REMEDY),
                ),
            },
        )
    }


@dataclass
class Stats:
    cancel_requests: int = 0
    effective_cancels: int = 0
    by_msisdn: dict[str, dict[str, int]] = field(default_factory=dict)
    joint_verifications: int = 0

    def count_cancel(self, msisdn: str, *, effective: bool) -> None:
        entry = self.by_msisdn.setdefault(msisdn, {"requests": 0, "effective": 0})
        entry["requests"] += 1
        self.cancel_requests += 1
        if effective:
            entry["effective"] += 1
            self.effective_cancels += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "cancel_requests": self.cancel_requests,
            "effective_cancels": self.effective_cancels,
            "by_msisdn": {msisdn: dict(entry) for msisdn, entry in self.by_msisdn.items()},
            "joint_verifications": self.joint_verifications,
        }


class FaultSettings(BaseModel):
    """The body of POST /admin/faults; fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(default=None, ge=0, le=60_000, strict=True)
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    fail_next: int | None = Field(default=None, ge=0, strict=True)
    lose_next: int | None = Field(default=None, ge=0, strict=True)
    seed: int | None = Field(default=None, strict=True)


@dataclass
class Faults:
    """Injected latency and transient failures, drawn from a seedable generator so runs repeat."""

    seed: int
    latency_ms: int = 0
    error_rate: float = 0.0
    fail_next: int = 0  # the next n partner requests get a 503 and are not applied
    lose_next: int = 0  # the next n partner requests are applied, then answered with a 503
    random: Random = field(init=False)

    def __post_init__(self) -> None:
        self.random = Random(self.seed)

    def update(self, settings: FaultSettings) -> None:
        for name in ("latency_ms", "error_rate", "fail_next", "lose_next"):
            value = getattr(settings, name)
            if value is not None:
                setattr(self, name, value)
        if settings.seed is not None:
            self.seed = settings.seed
            self.random.seed(settings.seed)

    def take_failure(self) -> bool:
        """Whether this request fails before it is applied. Uses up one of `fail_next` first."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        # Draw only when a rate is set, so turning faults on does not shift an unrelated sequence.
        return self.error_rate > 0 and self.random.random() < self.error_rate

    def take_loss(self) -> bool:
        if self.lose_next > 0:
            self.lose_next -= 1
            return True
        return False

    def as_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "fail_next": self.fail_next,
            "lose_next": self.lose_next,
            "seed": self.seed,
        }


@dataclass
class PartnerState:
    """Everything the sandbox remembers; `reset()` goes back to the seed."""

    seed: int
    subscribers: dict[tuple[str, str], Subscriber] = field(default_factory=_seed_subscribers)
    agents: dict[str, AgentStore] = field(default_factory=_seed_agents)
    # request_key -> (what the request was about, the first answer), per endpoint
    cancel_answers: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    verification_answers: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    faults: Faults = field(init=False)

    def __post_init__(self) -> None:
        self.faults = Faults(seed=self.seed)

    def reset(self) -> None:
        self.subscribers = _seed_subscribers()
        self.agents = _seed_agents()
        self.cancel_answers.clear()
        self.verification_answers.clear()
        self.stats = Stats()
        self.faults = Faults(seed=self.seed)


STATE = web.AppKey("partner_state", PartnerState)


# --- HTTP helpers --------------------------------------------------------------------------------

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json(body: dict[str, Any], status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps, **kwargs)


def _error(status: int, error: str, detail: str, **extra: Any) -> web.Response:
    return _json({"error": error, "detail": detail, **extra}, status=status)


class _BadRequest(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


_Model = TypeVar("_Model", bound=BaseModel)


async def _body(request: web.Request, model: type[_Model]) -> _Model:
    try:
        data = await request.json()
    except ValueError:
        raise _BadRequest("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise _BadRequest("the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _BadRequest(describe(error)) from None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class CancelBody(_Body):
    request_key: str = Field(min_length=1, max_length=200)
    holder_name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(min_length=1, max_length=40)


class ArmBody(_Body):
    holder_name: str = Field(min_length=1, max_length=100)
    id_number: str
    forward_to: str


class VerificationBody(_Body):
    request_key: str = Field(min_length=1, max_length=200)
    msisdn: str = Field(min_length=1, max_length=20)
    complaint_ref: str = Field(min_length=1, max_length=200)


# --- middleware ----------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _bad_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _BadRequest as error:
        return _error(400, "invalid_request", error.detail)


@web.middleware
async def _inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency and 503s for the partner endpoints only: /health and /admin always answer."""
    if not _PARTNER_PATH.match(request.path):
        return await handler(request)
    faults = request.app[STATE].faults
    fail = faults.take_failure()  # decided on arrival, so `fail_next` means the next n to arrive
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000)
    if fail:
        return _injected_unavailable(request, "fail")
    response = await handler(request)
    if faults.take_loss():
        return _injected_unavailable(request, "lose")
    return response


def _injected_unavailable(request: web.Request, kind: str) -> web.Response:
    log.info("partner_sandbox.fault", kind=kind, method=request.method, path=scrub(request.path))
    return _error(503, "unavailable", "the partner is temporarily unavailable (injected fault)")


# --- carrier endpoints ---------------------------------------------------------------------------


def _carrier(request: web.Request) -> str | web.Response:
    carrier = request.match_info["carrier"]
    if carrier not in CARRIERS:
        return _error(404, "no_such_carrier", f"this sandbox plays {', '.join(CARRIERS)}, not {carrier!r}")
    return carrier


def _forwarding_json(carrier: str, msisdn: str, subscriber: Subscriber) -> dict[str, Any]:
    return {
        "msisdn": msisdn,
        "carrier": carrier,
        "active": subscriber.active,
        "forward_to": subscriber.forward_to,
        "cancelled_at": _iso(subscriber.cancelled_at),
    }


def _no_such_number(carrier: str) -> web.Response:
    return _error(404, "no_such_number", f"{carrier} holds no such number")


async def get_forwarding(request: web.Request) -> web.Response:
    carrier = _carrier(request)
    if isinstance(carrier, web.Response):
        return carrier
    msisdn = request.match_info["msisdn"]
    subscriber = request.app[STATE].subscribers.get((carrier, msisdn))
    if subscriber is None:
        return _no_such_number(carrier)
    return _json(_forwarding_json(carrier, msisdn, subscriber))


async def arm_forwarding(request: web.Request) -> web.Response:
    """Set up (or re-arm) an active forwarding: a fixture for demos and tests, not a partner API."""
    carrier = _carrier(request)
    if isinstance(carrier, web.Response):
        return carrier
    body = await _body(request, ArmBody)
    try:
        msisdn = parse_msisdn(request.match_info["msisdn"])
        forward_to = parse_msisdn(body.forward_to)
        id_number = parse_id_number(body.id_number)
    except DomainError as error:
        raise _BadRequest(str(error)) from None
    subscriber = Subscriber(
        holder_name=body.holder_name, id_number=id_number, forward_to=forward_to, active=True
    )
    request.app[STATE].subscribers[(carrier, msisdn)] = subscriber
    return _json(_forwarding_json(carrier, msisdn, subscriber))


def _identity_mismatch(subscriber: Subscriber, body: CancelBody) -> list[str]:
    """The identity fields that do not match the holder's record, in a stable order."""
    wrong = []
    if body.holder_name != subscriber.holder_name:
        wrong.append("holder_name")
    if body.id_number.upper() != subscriber.id_number:
        wrong.append("id_number")
    return wrong


async def cancel_forwarding(request: web.Request) -> web.Response:
    """Cancel call forwarding after checking name and ID number; idempotent by request_key."""
    carrier = _carrier(request)
    if isinstance(carrier, web.Response):
        return carrier
    msisdn = request.match_info["msisdn"]
    body = await _body(request, CancelBody)
    state = request.app[STATE]
    subscriber = state.subscribers.get((carrier, msisdn))
    if subscriber is None:
        state.stats.count_cancel(msisdn, effective=False)
        return _no_such_number(carrier)

    wrong = _identity_mismatch(subscriber, body)
    if wrong:
        state.stats.count_cancel(msisdn, effective=False)
        # Say which field, as 10010 would, but echo none of what was given.
        return _error(
            403,
            "identity_mismatch",
            f"{' and '.join(wrong)} {'does' if len(wrong) == 1 else 'do'} not match the holder's record",
            fields=wrong,
        )

    about = (carrier, msisdn)
    earlier = state.cancel_answers.get(body.request_key)
    if earlier is not None:
        state.stats.count_cancel(msisdn, effective=False)
        if earlier[0] != about:
            return _error(409, "request_key_reused", "this request_key was already used for another number")
        # The first answer, word for word: a retry after a lost answer learns what its request did.
        return _json(earlier[1], headers={"Idempotent-Replayed": "true"})

    effective = subscriber.active
    if effective:
        subscriber.active = False
        subscriber.cancelled_at = _now()
    answer = {
        "status": "cancelled" if effective else "not_forwarding",
        "effective": effective,
        "request_key": body.request_key,
        "cancelled_at": _iso(subscriber.cancelled_at),
    }
    state.cancel_answers[body.request_key] = (about, answer)
    state.stats.count_cancel(msisdn, effective=effective)
    return _json(answer)


# --- agent store endpoints -----------------------------------------------------------------------


async def joint_verification(request: web.Request) -> web.Response:
    """Verify a sale together with the agent store that made it and agree a remedy; idempotent by key."""
    agent_code = request.match_info["agent_code"]
    body = await _body(request, VerificationBody)
    state = request.app[STATE]
    agent = state.agents.get(agent_code)
    if agent is None:
        return _error(404, "no_such_agent", f"no agent store {agent_code!r}")
    sale = agent.sales.get(body.msisdn)
    if sale is None:
        return _error(404, "no_such_number", f"{agent_code} has no record of selling this number")

    about = (agent_code, body.msisdn, body.complaint_ref)
    earlier = state.verification_answers.get(body.request_key)
    if earlier is not None:
        if earlier[0] != about:
            return _error(
                409, "request_key_reused", "this request_key was already used for another verification"
            )
        return _json(earlier[1], headers={"Idempotent-Replayed": "true"})

    state.stats.joint_verifications += 1
    answer = {
        "verification_id": f"JV-{agent_code}-{state.stats.joint_verifications:04d}",
        "agent_code": agent_code,
        "agent_name": agent.name,
        "msisdn": body.msisdn,
        "complaint_ref": body.complaint_ref,
        "plan_code": sale.plan_code,
        "tariff_explained": sale.tariff_explained,
        "finding": sale.finding,
        "remedy": dict(sale.remedy),
        "verified_at": _iso(_now()),
    }
    state.verification_answers[body.request_key] = (about, answer)
    return _json(answer)


# --- health and admin ----------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def get_faults(request: web.Request) -> web.Response:
    return _json(request.app[STATE].faults.as_json())


async def set_faults(request: web.Request) -> web.Response:
    faults = request.app[STATE].faults
    faults.update(await _body(request, FaultSettings))
    log.info("partner_sandbox.faults_set", **faults.as_json())
    return _json(faults.as_json())


async def clear_faults(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.faults = Faults(seed=state.seed)
    return _json(state.faults.as_json())


async def get_stats(request: web.Request) -> web.Response:
    return _json(request.app[STATE].stats.as_json())


async def get_records(request: web.Request) -> web.Response:
    """Every request the partners answered, by request key: what `starter reconcile` compares with the cases.

    A real partner sends a statement of the requests it carried out; numbers stay out of it.
    """
    state = request.app[STATE]
    records = [
        {
            "request_key": key,
            "partner": about[0],
            "action": "cancel_forwarding",
            "effective": bool(answer["effective"]),
            "reference": None,
        }
        for key, (about, answer) in state.cancel_answers.items()
    ]
    records += [
        {
            "request_key": key,
            "partner": about[0],
            "action": "joint_verification",
            "effective": True,
            "reference": answer["verification_id"],
        }
        for key, (about, answer) in state.verification_answers.items()
    ]
    return _json({"records": records})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE].reset()
    log.info("partner_sandbox.reset")
    return _json({"status": "reset"})


def make_app(*, seed: int = 0) -> web.Application:
    """The sandbox app with freshly seeded state; `seed` drives the random `error_rate` faults."""
    app = web.Application(middlewares=[_bad_requests, _inject_faults])
    app[STATE] = PartnerState(seed=seed)
    app.router.add_get("/health", health)
    app.router.add_get("/carriers/{carrier}/forwardings/{msisdn}", get_forwarding)
    app.router.add_put("/carriers/{carrier}/forwardings/{msisdn}", arm_forwarding)
    app.router.add_post("/carriers/{carrier}/forwardings/{msisdn}/cancel", cancel_forwarding)
    app.router.add_post("/agents/{agent_code}/joint-verifications", joint_verification)
    app.router.add_get("/admin/faults", get_faults)
    app.router.add_post("/admin/faults", set_faults)
    app.router.add_delete("/admin/faults", clear_faults)
    app.router.add_get("/admin/stats", get_stats)
    app.router.add_get("/admin/records", get_records)
    app.router.add_post("/admin/reset", reset)
    return app


# --- running it ----------------------------------------------------------------------------------


@dataclass
class RunningSandbox:
    """A sandbox listening on a real port."""

    url: str
    port: int
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_partner_sandbox(host: str = "127.0.0.1", port: int = 0, *, seed: int = 0) -> RunningSandbox:
    """Start the sandbox on host:port (0 picks a free port) and return where it listens."""
    # No access log: its paths carry phone numbers in clear.
    runner = web.AppRunner(make_app(seed=seed), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = int(runner.addresses[0][1])
    url_host = f"[{host}]" if ":" in host else host
    return RunningSandbox(url=f"http://{url_host}:{bound_port}", port=bound_port, runner=runner)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandboxes.partner_carrier",
        description=(
            "Partner-carrier sandbox: call-forwarding cancellation at china_unicom/china_telecom (with a "
            "name + ID number check) and joint verifications with agent stores, seeded with the seed's "
            "stories. State is in memory; POST /admin/reset restores the seed, POST /admin/faults injects "
            "latency and transient 503s."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=8787, help="port to listen on, 0 for any free port (default: %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for the random faults (default: %(default)s)"
    )
    parser.add_argument(
        "--log-format",
        choices=("console", "json"),
        default="console",
        help="log lines for people or machines",
    )
    return parser


async def _serve(host: str, port: int, seed: int) -> None:
    sandbox = await start_partner_sandbox(host, port, seed=seed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("partner_sandbox.ready", url=sandbox.url, port=sandbox.port, seed=seed)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
        log.info("partner_sandbox.stopped")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if args.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
    )
    try:
        asyncio.run(_serve(args.host, args.port, args.seed))
    except OSError as error:
        print(f"partner sandbox: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
