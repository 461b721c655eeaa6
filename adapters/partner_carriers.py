"""The partners port's HTTP adapter: I/O only (requests, answers and errors live in ports/partners.py).

Activities depend on `PartnerCarriers`; `HttpPartnerCarriers` speaks to the partner sandbox
(sandboxes/partner_carrier.py), and a real carrier's gateway would be another class with the same
two methods. The adapter never retries: a failed call raises at once and Temporal's activity retry
policy decides what happens next. Errors say whether retrying can help (`retryable`).
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import ValidationError

from domain.masking import mask_msisdn, scrub
from domain.validation import describe
from ports.partners import (
    CancelForwardingRequest,
    CancelForwardingResult,
    IdentityMismatch,
    JointVerificationRequest,
    JointVerificationResult,
    PartnerAnswer,
    PartnerError,
    PartnerRecord,
    PartnerUnavailable,
    UnknownNumber,
    UnknownPartner,
)

DEFAULT_TIMEOUT_SECONDS = 5.0
_Answered = TypeVar("_Answered", bound=PartnerAnswer)


class _Statement(PartnerAnswer):
    records: list[PartnerRecord]


class HttpPartnerCarriers:
    """`PartnerCarriers` over HTTP/JSON. One attempt per call; use as `async with` or call `close()`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """`session`, if given, stays the caller's to close; otherwise one is made on first use."""
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session, when this client opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def cancel_forwarding(self, req: CancelForwardingRequest) -> CancelForwardingResult:
        """Ask the partner carrier to cancel the number's call forwarding (idempotent by request key)."""
        path = (
            f"/carriers/{quote(req.carrier.value, safe='')}/forwardings/{quote(req.msisdn, safe='')}/cancel"
        )
        body = {"request_key": req.request_key, "holder_name": req.holder_name, "id_number": req.id_number}
        where = f"{req.carrier.value} number {mask_msisdn(req.msisdn)}"
        return await self._post(path, body, CancelForwardingResult, where)

    async def joint_verification(self, req: JointVerificationRequest) -> JointVerificationResult:
        """Ask the agent store to verify a sale jointly with us (idempotent by request key)."""
        path = f"/agents/{quote(req.agent_code, safe='')}/joint-verifications"
        body = {"request_key": req.request_key, "msisdn": req.msisdn, "complaint_ref": req.complaint_ref}
        where = f"agent store {req.agent_code}, number {mask_msisdn(req.msisdn)}"
        return await self._post(path, body, JointVerificationResult, where)

    async def records(self) -> list[PartnerRecord]:
        """The partners' statement: every request they answered, with its request key."""
        return (await self._send("GET", "/admin/records", None, _Statement, "the partners' statement")).records

    async def _post(self, path: str, body: dict[str, Any], answer: type[_Answered], where: str) -> _Answered:
        return await self._send("POST", path, body, answer, where)

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, answer: type[_Answered], where: str
    ) -> _Answered:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = self._base_url + path
        try:
            async with self._session.request(method, url, json=body, timeout=self._timeout) as response:
                status = response.status
                text = await response.text()
        except TimeoutError:  # aiohttp's timeouts; asyncio.TimeoutError is TimeoutError since 3.11
            raise PartnerUnavailable(
                f"{where}: no answer within {self._timeout.total:g} s from {self._base_url}"
            ) from None
        except aiohttp.ClientError as error:
            # aiohttp's message may quote the URL, whose path holds the number.
            raise PartnerUnavailable(f"{where}: cannot reach {self._base_url}: {scrub(str(error))}") from None
        if status >= 500 or status == 429:
            raise PartnerUnavailable(f"{where}: the partner answered HTTP {status}", status=status)
        data = _json_object(text)
        if status >= 400:
            raise _refusal(status, data, where)
        try:
            return answer.model_validate(data)
        except ValidationError as error:
            # describe() leaves out the input values, which may hold phone numbers.
            raise PartnerError(f"{where}: unexpected answer from the partner: {describe(error)}") from None


def _json_object(text: str) -> dict[str, Any]:
    """The answer's JSON object, or an empty dict when there is none (the status then speaks alone)."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(status: int, data: dict[str, Any], where: str) -> PartnerError:
    error = str(data.get("error", ""))
    # Error messages end up in Temporal histories and logs: nothing personal may pass through.
    detail = scrub(str(data.get("detail", ""))) or f"HTTP {status}"
    if status == 403 and error == "identity_mismatch":
        fields = tuple(str(name) for name in data.get("fields") or ())
        return IdentityMismatch(f"{where}: identity check failed: {detail}", fields=fields)
    if status == 404 and error == "no_such_number":
        return UnknownNumber(f"{where}: {detail}")
    if status == 404:
        return UnknownPartner(f"{where}: {detail}")
    return PartnerError(f"{where}: the partner refused the request ({error or status}): {detail}")
