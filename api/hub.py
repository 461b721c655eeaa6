"""TMF621 `/hub`: listeners register a callback and a query, and get the TMF events signed as Standard Webhooks.

`POST /hub` answers the registration with its `whsec_` signing secret, once: it is never shown again, and a
client that loses it deletes the listener and registers anew. The dead-letter routes (outside the TMF path)
let a supervisor see what the relay gave up on, and put it back in line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, Security
from pydantic import BaseModel, ConfigDict, Field

from api.context import ApiContext, context_of
from api.errors import ERROR_RESPONSES, ApiError
from api.security import Caller, require
from delivery import dead_letters, hub
from domain.actors import Role

router = APIRouter(tags=["events subscription"], responses=ERROR_RESPONSES)
dead_letter_router = APIRouter(prefix="/delivery/v1", tags=["delivery"], responses=ERROR_RESPONSES)

# Who manages listeners and dead letters: the people who run the integration, not agents or customers.
HUB_ROLES = (Role.SUPERVISOR,)


class HubFVO(BaseModel):
    """A listener's registration: where to call, and which events (a TMF query; empty: every event)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    callback: str = Field(description="The URL the events are POSTed to (http or https).", max_length=2000)
    query: str | None = Field(
        default=None,
        max_length=2000,
        description="Which events, e.g. `eventType=TroubleTicketStatusChangeEvent&event.troubleTicket.status=resolved`",
    )
    # TMF's Extensible names the (sub)class here; any name is taken, since the registration means the same.
    type_: str = Field(default="Hub", alias="@type", max_length=100)


class Hub(BaseModel):
    """A registered listener. `@type` WebhookHub extends TMF's Hub with its state (and, once, its secret)."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    href: str
    callback: str
    query: str | None = None
    status: Literal["active", "disabled"] = Field(description="disabled: its endpoint answered 410 Gone")
    disabled_reason: str | None = Field(default=None, alias="disabledReason")
    type_: Literal["WebhookHub"] = Field(default="WebhookHub", alias="@type")
    base_type: Literal["Hub"] = Field(default="Hub", alias="@baseType")


class RegisteredHub(Hub):
    """The answer to a registration: the listener and its Standard Webhooks secret, shown this once."""

    secret: str = Field(description="whsec_ and base64: verify `webhook-signature` with it. Not shown again.")


def _hub(listener: hub.Listener) -> Hub:
    return Hub(
        id=listener.id,
        href=f"{HUB_PATH}/{listener.id}",
        callback=listener.callback,
        query=listener.query or None,
        status="disabled" if listener.disabled_at else "active",
        disabledReason=listener.disabled_reason,
    )


HUB_PATH = "/tmf-api/troubleTicket/v5/hub"


@router.post("/hub", status_code=201, response_model=RegisteredHub, response_model_by_alias=True,
             summary="Register a listener")
async def register_listener(
    body: HubFVO,
    caller: Annotated[Caller, Security(require(*HUB_ROLES))],
    context: Annotated[ApiContext, Depends(context_of)],
    response: Response,
) -> RegisteredHub:
    """Register a listener for the TMF events the query selects; the answer holds its signing secret, once."""
    try:
        listener, secret = await hub.register(context.pool, body.callback, body.query, caller.actor.subject)
    except hub.BadListener as error:
        raise ApiError(400, str(error)) from None
    response.headers["Location"] = f"{HUB_PATH}/{listener.id}"
    return RegisteredHub(**_hub(listener).model_dump(), secret=secret)


@router.get("/hub/{id}", response_model=Hub, response_model_by_alias=True, summary="Retrieve a listener")
async def retrieve_listener(
    id: str,
    caller: Annotated[Caller, Security(require(*HUB_ROLES))],
    context: Annotated[ApiContext, Depends(context_of)],
) -> Hub:
    """One registered listener by id (404 when there is none)."""
    listener = await hub.get(context.pool, id)
    if listener is None:
        raise ApiError(404, f"no listener {id}")
    return _hub(listener)


@router.delete("/hub/{id}", status_code=204, summary="Unregister a listener")
async def unregister_listener(
    id: str,
    caller: Annotated[Caller, Security(require(*HUB_ROLES))],
    context: Annotated[ApiContext, Depends(context_of)],
) -> Response:
    """Unregister; what was still to be sent to it is cancelled (and says so)."""
    if not await hub.delete(context.pool, id):
        raise ApiError(404, f"no listener {id}")
    return Response(status_code=204)


class DeadLetter(BaseModel):
    """A delivery whose every retry failed: a webhook to a listener, or a notification to a person."""

    kind: Literal["webhook", "notification"]
    id: int
    complaint_id: str = Field(alias="complaintId")
    what: str = Field(description="The TMF event type, or the notification's recipient role")
    destination: str
    attempts: int
    last_status: int | None = Field(default=None, alias="lastStatus")
    last_error: str | None = Field(default=None, alias="lastError")
    dead_at: datetime = Field(alias="deadAt")
    held_back: int = Field(alias="heldBack", description="Later events of the ticket waiting behind this one")

    model_config = ConfigDict(populate_by_name=True)


@dead_letter_router.get("/deadLetter", response_model=list[DeadLetter], response_model_by_alias=True,
                        summary="List the dead letters")
async def list_dead_letters(
    caller: Annotated[Caller, Security(require(*HUB_ROLES))],
    context: Annotated[ApiContext, Depends(context_of)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    """The notifications the hub gave up delivering, oldest first, up to `limit`."""
    letters = await dead_letters.dead_letters(context.pool, limit=limit)
    return [DeadLetter(**letter.__dict__) for letter in letters]


@dead_letter_router.post("/deadLetter/{kind}/{id}/replay", status_code=202, summary="Replay a dead letter")
async def replay_dead_letter(
    kind: Literal["webhook", "notification"],
    id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    caller: Annotated[Caller, Security(require(*HUB_ROLES))],
    context: Annotated[ApiContext, Depends(context_of)],
) -> Response:
    """Put the dead letter back in line with a fresh round of retries (the same webhook-id)."""
    if not await dead_letters.replay(context.pool, kind, id):
        raise ApiError(404, f"no dead {kind} {id} (delivered, replayed already, or its listener is gone)")
    return Response(status_code=202)
