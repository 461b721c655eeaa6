"""The partner sandbox's HTTP endpoints: carriers' call forwarding, agent stores' joint verifications, admin.

It behaves like a remote partner should be expected to: it checks identity, answers idempotently by
request key, and on demand adds latency and transient 503s (POST /admin/faults) so retries are tested
for real. `lose_next` even applies a request and then answers 503, the case where only an idempotent
retry is safe. sandboxes/partner_carrier.py serves it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.errors import DomainError
from domain.identity import parse_id_number
from domain.masking import scrub
from domain.msisdn import parse_msisdn
from domain.validation import describe
from sandboxes.partner_state import Faults, FaultSettings, PartnerState, Subscriber

CARRIERS = ("china_unicom", "china_telecom")

# Paths that behave like a remote partner and therefore suffer the injected faults.
_PARTNER_PATH = re.compile(r"^/(carriers|agents)/")

log = structlog.get_logger("sandboxes.partner_carrier")


def _now() -> datetime:
    return datetime.now(UTC)


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
    """The call forwarding the partner carrier has for a number."""
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
    """Liveness: the sandbox answers."""
    return _json({"status": "ok"})


async def get_faults(request: web.Request) -> web.Response:
    """The faults the sandbox injects now."""
    return _json(request.app[STATE].faults.as_json())


async def set_faults(request: web.Request) -> web.Response:
    """Change the faults the sandbox injects (tests and chaos runs)."""
    faults = request.app[STATE].faults
    faults.update(await _body(request, FaultSettings))
    log.info("partner_sandbox.faults_set", **faults.as_json())
    return _json(faults.as_json())


async def clear_faults(request: web.Request) -> web.Response:
    """Stop injecting faults."""
    state = request.app[STATE]
    state.faults = Faults(seed=state.seed)
    return _json(state.faults.as_json())


async def get_stats(request: web.Request) -> web.Response:
    """What the sandbox was asked and answered, counted."""
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
    """Put the sandbox back as seeded."""
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
