"""What ComplaintClient's callers hold besides the client.

Its options, receipts and summaries, its errors, credentials, the Temporal connection with the project's data converter,
and who may see which case.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from auth.tokens import TokenRefused, VerifiedActor, read_verified_claims
from codec.aes_gcm import KeyRing, encrypted_data_converter
from domain.actors import Role
from domain.events import LinkedToCase
from domain.msisdn import parse_msisdn
from domain.regulatory import Inadmissible
from domain.validation import describe
from workflows.complaint import STILL_OPENING, ComplaintWorkflow
from workflows.messages import (
    CaseOutcome,
    CaseView,
)


def new_complaint_id(now: datetime | None = None) -> str:
    """A new case id, `CMP-<UTC date>-<8 hex>`: what `starter file` and the console's filing form give."""
    now = now or datetime.now(UTC)
    return f"CMP-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class CaseSummary:
    """One row of a supervisor's list, from Temporal visibility."""

    complaint_id: str
    category: str | None
    priority: str | None
    status: str | None
    assignee: str | None
    escalation_level: int
    sla_due_at: datetime | None


@dataclass(frozen=True)
class ClientOptions:
    """Where this client sends new cases.

    Client settings only: every rule a case runs under (approval limit, deadlines, reopen window) is the worker's
    policy, recorded in the case's first event.
    """

    task_queue: str = "complaints"


class FilingReceipt(WorkflowHandle[ComplaintWorkflow, CaseOutcome]):
    """What filing a case answers.

    The case's workflow handle, and the open cases of the same number and category.

    `linked_case_ids` is what the case itself recorded (its LinkedToCase event); None when the case had
    not looked yet within the wait (its timeline will still show it), or never will (rejected at intake).
    `rejection` says why the case was not accepted at intake (a regulator's rule, by name), when it was not.
    Being the workflow handle too (`result()`, `describe()`, ...), it keeps scripts written against the handle
    working.
    """

    def __init__(
        self,
        client: Client,
        handle: WorkflowHandle[ComplaintWorkflow, CaseOutcome],
        linked_case_ids: list[str] | None,
        rejection: Inadmissible | None = None,
    ) -> None:
        super().__init__(
            client,
            handle.id,
            run_id=handle.run_id,
            result_run_id=handle.result_run_id,
            first_execution_run_id=handle.first_execution_run_id,
            result_type=CaseOutcome,
        )
        self.linked_case_ids = linked_case_ids
        self.rejection = rejection
        self._started = handle

    @classmethod
    def of(
        cls, client: Client, handle: WorkflowHandle[ComplaintWorkflow, CaseOutcome], first: CaseView | None
    ) -> FilingReceipt:
        """The receipt of a case whose first steps are `first` (None: not seen within the wait)."""
        if first is None:
            return cls(client, handle, None)
        link = next((e for e in first.timeline if isinstance(e, LinkedToCase)), None)
        return cls(client, handle, list(link.linked_complaint_ids) if link else None, first.state.rejection)

    @property
    def complaint_id(self) -> str:
        """The case's complaint id (the workflow id)."""
        return self.id

    async def result(
        self,
        *,
        follow_runs: bool = True,
        rpc_metadata: Mapping[str, str | bytes] = {},
        rpc_timeout: timedelta | None = None,
    ) -> CaseOutcome:
        """Wait for the case's outcome, following its runs."""
        # Through the handle start_workflow gave: a client's interceptors may have specialised it
        # (the time-skipping test server's handle lets time skip while its result is awaited).
        return await self._started.result(follow_runs=follow_runs, rpc_metadata=rpc_metadata, rpc_timeout=rpc_timeout)


class CaseNotFound(LookupError):
    """No case with that id in Temporal."""


class CaseAlreadyFiled(ValueError):
    """A case with that id exists already: filing it again would make two cases."""


class CommandRefused(ValueError):
    """The case refused an answer, approval, note, ...; the message says why."""


class NotAuthenticated(PermissionError):
    """No usable credential: none given, or expired, or not signed by a trusted key. Log in (again)."""


class NotVisible(PermissionError):
    """The credential's holder may not see this case (a customer asking for another customer's case)."""


Credential = str | Callable[[], str]
"""A signed token (JWT), or a function returning the current one (a token provider that refreshes)."""


def token_of(credential: Credential) -> str:
    """The bearer token a credential gives (a callable is asked each time, so it may refresh)."""
    return credential() if callable(credential) else credential


def identity_for(credential: Credential | None) -> str:
    """The Temporal client identity naming the acting user: `sup-zhang (supervisor) 1234@host`.

    So Temporal's own request records (who started, updated, terminated a workflow) agree with the events.
    """
    where = f"{os.getpid()}@{socket.gethostname()}"
    if credential is None:
        return f"anonymous {where}"
    try:
        claims = read_verified_claims(token_of(credential))
    except (TokenRefused, ValueError):
        return f"unauthenticated {where}"
    return f"{claims.subject} ({claims.role.value}) {where}"


STOPPED_RUNS: dict[WorkflowExecutionStatus, str] = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CANCELED: "canceled",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}
"""How `list` shows a case whose workflow stopped without closing it (see activities.reconcile)."""

# How often `view` asks a case that is still opening (50 ms apart).
OPENING_ATTEMPTS = 100

M = TypeVar("M", bound=BaseModel)


def _command(model: type[M], **fields: Any) -> M:
    """Build an update's input, refusing bad fields the way the case itself refuses bad commands."""
    try:
        return model(**fields)
    except ValidationError as error:
        raise CommandRefused(describe(error)) from None


async def execute_update(handle: WorkflowHandle[Any, Any], update: Any, request: Any, timeout: timedelta | None) -> Any:
    """Run one update on a case; a refusal is a CommandRefused, a case with no run a CaseNotFound.

    A run still opening (its local activities) refuses every update, leaving no trace: it is asked again.
    """
    for attempt in range(OPENING_ATTEMPTS):
        try:
            return await handle.execute_update(update, request, rpc_timeout=timeout)
        except WorkflowUpdateFailedError as error:
            message = getattr(error.cause, "message", None) or str(error.cause)
            if STILL_OPENING in message and attempt < OPENING_ATTEMPTS - 1:
                await asyncio.sleep(0.05)
                continue
            raise CommandRefused(message) from None
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(f"no open case {handle.id}") from None
            raise
    raise AssertionError("unreachable")


async def connect_temporal(
    address: str,
    namespace: str = "default",
    *,
    keys: KeyRing,
    credential: Credential | None = None,
    identity: str | None = None,
) -> Client:
    """A Temporal client with the project's one data converter and the acting user's identity.

    The converter is pydantic JSON encrypted under `keys` (runtime.settings.Settings.payload_key_ring), so no
    payload reaches Temporal in clear; the identity names the logged-in user (identity_for), so Temporal's own
    request records agree with the events.
    """
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=encrypted_data_converter(keys),
        identity=identity or (identity_for(credential) if credential is not None else None),
    )


def check_visible(reader: VerifiedActor | None, complaint_id: str, msisdn: str) -> None:
    """A customer's token reads only the cases of the number it names; staff and auditors read every case."""
    if reader is None or reader.role is not Role.CUSTOMER:
        return
    if reader.msisdn is None or not _same_number(reader.msisdn, msisdn):
        raise NotVisible(f"case {complaint_id} is not a case of {reader.subject}: a customer sees only their own")


def _same_number(claimed: str, recorded: str) -> bool:
    try:
        return parse_msisdn(claimed) == parse_msisdn(recorded)
    except ValueError:
        return False
