"""Erasing a customer's personal data (PIPL) by crypto-shredding their keys.

One transaction: the customer's live keys are wiped (`wrapped_key` nulled, who and why recorded), and
each of their cases gets a `PersonalDataErased` event with the actor, appended like any other event so
the chain, the read model and the audit trail all carry it. Nothing else is rewritten: the sealed
values stay in the events and now read `[erased]`.

Only closed cases are erased: an open case's workflow still holds the customer's data and would go on
appending events of its own at the same sequence numbers. Closed erased cases cannot be reopened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from domain.actors import Actor
from domain.events import PersonalDataErased
from domain.personal_data import ERASED, is_personal
from store.event_store import PostgresEventStore


class UnknownCustomer(LookupError):
    """No stored case has this number: there is nothing to erase."""


class OpenCasesRemain(Exception):
    """The customer still has open cases; nothing was erased."""

    def __init__(self, complaint_ids: list[str]) -> None:
        super().__init__(", ".join(complaint_ids))
        self.complaint_ids = complaint_ids


@dataclass(frozen=True)
class ErasedCase:
    complaint_id: str
    seq: int  # of its PersonalDataErased event


@dataclass(frozen=True)
class PendingFollowUp:
    """A durable follow-up (e.g. extend validity when it runs out) still to run.

    Its workflow holds the customer's number in its own input until then, which the erasure cannot reach.
    """

    complaint_id: str
    follow_up: str
    due_at: datetime


@dataclass(frozen=True)
class ErasureResult:
    key_ids: list[str]  # destroyed by this call
    cases: list[ErasedCase]  # that got their PersonalDataErased event from this call
    pending_follow_ups: list[PendingFollowUp] = field(default_factory=list)
    # When nothing was left to erase (a retry): when and by whom the keys were erased before.
    already_erased_at: datetime | None = None
    already_erased_by: str | None = None

    @property
    def changed(self) -> bool:
        """Whether this call erased any key (False on a retry that found nothing left)."""
        return bool(self.key_ids)


async def erase_customer(
    store: PostgresEventStore, msisdn: str, *, actor: Actor, reason: str, at: datetime
) -> ErasureResult:
    """Destroy the keys of the customer with `msisdn` (a valid number) and record it on each case.

    Raises UnknownCustomer when no case of the number was ever stored, OpenCasesRemain when one is
    still open (in both cases nothing changes). A second call finds no live key and changes nothing.
    """
    vault = store.vault
    ref = vault.customer_ref(msisdn)
    async with store.pool.acquire() as conn, conn.transaction():
        keys = await conn.fetch(
            """SELECT key_id, erased_at, erased_by FROM customer_keys WHERE customer_ref = $1
               ORDER BY created_at FOR UPDATE""",
            ref,
        )
        if not keys:
            raise UnknownCustomer("no stored case has this number: nothing to erase")
        live = [row["key_id"] for row in keys if row["erased_at"] is None]
        if not live:
            last = max(keys, key=lambda row: row["erased_at"])
            return ErasureResult([], [], already_erased_at=last["erased_at"], already_erased_by=last["erased_by"])
        # The cases' head rows are locked as appends lock them, so none can change under us.
        cases = await conn.fetch(
            """SELECT complaint_id, status, last_seq, state->'follow_ups' AS follow_ups FROM complaints
               WHERE complaint_id IN (SELECT complaint_id FROM complaint_keys WHERE key_id = ANY($1::text[]))
               ORDER BY complaint_id FOR UPDATE""",
            live,
        )
        still_open = [row["complaint_id"] for row in cases if row["status"] != "closed"]
        if still_open:
            raise OpenCasesRemain(still_open)
        await conn.execute(
            """UPDATE customer_keys SET wrapped_key = NULL, erased_at = $2, erased_by = $3, erase_reason = $4
               WHERE key_id = ANY($1::text[])""",
            live,
            at,
            actor.id,
            # The operator's text may name the customer: then it is kept nowhere in clear.
            ERASED if is_personal(None, reason, frozenset()) else reason,
        )
        key_of = dict(
            (row["complaint_id"], row["key_id"])
            for row in await conn.fetch(
                "SELECT complaint_id, key_id FROM complaint_keys WHERE key_id = ANY($1::text[])", live
            )
        )
        pending = [
            PendingFollowUp(row["complaint_id"], name, due_at)
            for row in cases
            for name, due in json.loads(row["follow_ups"] or "{}").items()
            if (due_at := datetime.fromisoformat(due)) > at
        ]
        erased: list[ErasedCase] = []
        for row in cases:
            event = PersonalDataErased(
                complaint_id=row["complaint_id"],
                seq=row["last_seq"] + 1,
                at=at,
                actor=actor,
                key_id=key_of[row["complaint_id"]],
                reason=reason,
            )
            await store.append_in(conn, row["complaint_id"], [event])
            erased.append(ErasedCase(row["complaint_id"], event.seq))
    return ErasureResult(live, erased, pending)
