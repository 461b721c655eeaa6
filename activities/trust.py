"""Who opens a case: the filer's (or reopener's) token verified by the worker, as a local activity.

Why an activity and not the validators' check inline: update validators never run on replay, so they may read
the keys the worker trusts now. The opening is workflow code, which does run on replay: verifying inline would
make a replay depend on the keys installed then (a key retired years later would turn a filed case into a
refused one, and the replay would diverge). A local activity's result is a marker in history, so the verdict
given at filing is the verdict on every replay, and no key is needed to replay.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from temporalio import activity

from activities.logging import activity_log
from auth import trust
from auth.tokens import TokenRefused
from domain.actors import Actor, ActorChannel


class ProveActor(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: str = Field(repr=False)
    channel: ActorChannel = ActorChannel.API
    # The workflow's time when the case opened: expiry is judged at it, as the validators judge at theirs.
    at: AwareDatetime


class ProvenActor(BaseModel):
    """The actor the token proves, or why it proves nobody (then `actor` is None)."""

    model_config = ConfigDict(frozen=True)

    actor: Actor | None = None
    refusal: str = ""


def prove(token: str, channel: ActorChannel, at: datetime) -> ProvenActor:
    """The verdict on a token at `at`: the same check the update validators make (auth.trust.verify)."""
    if not token:
        return ProvenActor(refusal="no token: the actor must be proven by a signed token")
    try:
        verified = trust.verify(token, at)
    except TokenRefused as refusal:
        return ProvenActor(refusal=str(refusal))
    except ValueError as error:  # not a JWT at all
        return ProvenActor(refusal=f"not a token: {error}")
    if channel is ActorChannel.ENGINE:
        return ProvenActor(refusal="the engine channel is the engine's own; a person acts through another")
    return ProvenActor(actor=verified.actor(channel))


class TrustActivities:
    @activity.defn
    async def prove_actor(self, request: ProveActor) -> ProvenActor:
        """Verify who opens a case against the keys this worker trusts; a refusal is an answer, not an error."""
        proven = prove(request.token, request.channel, request.at)
        if proven.actor is None:
            activity_log().warning("opening refused: actor not proven", reason=proven.refusal)
        return proven
