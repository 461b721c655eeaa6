"""The keys this worker process trusts, read by the workflows' update validators.

How the keys reach a validator, deterministically:

- The worker loads them at the edge (worker.py: the embedded issuer's key file, or the OIDC provider's JWKS
  fetched at start) and installs them here with `install`. A refresher at the edge installs a new set when
  the file or the JWKS changes: that is how keys rotate. A set holds several keys by `kid`, so a new signing
  key and the one before it are both trusted while tokens of the old one are still alive.
- Workflow modules import this module through the sandbox (`imports_passed_through`), so every workflow
  of the process reads the one holder, never a per-run copy.
- Only update VALIDATORS read it. Temporal runs a validator when an update is first offered and never on
  replay, so a validator may depend on what the worker trusts now (and on `workflow.now()` for expiry)
  without making history depend on it. A refused update leaves no trace in history.
- The HANDLER never verifies again: it reads the same claims from the same token in the update's input
  (`read_verified_claims`) and records the verified actor (id, role), not the token, in the event. Replay
  then needs no key at all, and a key retired years later does not break an old case's replay.
"""

from __future__ import annotations

import threading
from datetime import datetime

from auth.tokens import TokenRefused, TrustedKeys, VerifiedActor, read_verified_claims, verify_token
from domain.actors import Actor, ActorChannel
from domain.errors import InvalidCommand

_lock = threading.Lock()
_installed: TrustedKeys | None = None


def install(keys: TrustedKeys) -> None:
    """Trust `keys` from now on (replacing the previous set): called at worker start and on rotation."""
    global _installed
    with _lock:
        _installed = keys


def installed() -> TrustedKeys | None:
    """The trusted keys installed for this process, or None before any were."""
    return _installed


def require_installed() -> TrustedKeys:
    """The installed keys, for an edge that verifies per request (the codec server); refuses when there are none."""
    keys = _installed
    if keys is None:
        raise TokenRefused("this process trusts no signing key yet: it cannot accept any token")
    return keys


def verify(token: str, now: datetime) -> VerifiedActor:
    """For validators: the token verified against the installed keys at the workflow's `now`."""
    return verify_token(token, require_installed(), now)


def proven_actor(token: str, channel: ActorChannel, now: datetime) -> Actor:
    """For validators: the person the token proves, acting through `channel`; InvalidCommand saying why not.

    The engine channel is the engine's own: no person's token acts through it.
    """
    try:
        verified = verify(token, now)
    except TokenRefused as refusal:
        raise InvalidCommand(f"refused, the actor is not proven: {refusal}") from None
    if channel is ActorChannel.ENGINE:
        raise InvalidCommand("refused: the engine channel is the engine's own; a person acts through another")
    return verified.actor(channel)


def claims_of_verified(token: str) -> VerifiedActor:
    """For handlers: the claims of a token its validator verified (see the module docstring)."""
    keys = _installed
    return read_verified_claims(token, keys.roles_claim if keys else "roles")
