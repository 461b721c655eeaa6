"""`starter erase`: a supervisor erases a customer's personal data (PIPL); the hash chains stay intact."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.audit_common import _audit_database, _local, _vault
from cli.connect import BadInput, CliError
from cli.login import logged_in
from domain.actors import ActorChannel, Role
from domain.errors import InvalidMsisdn
from domain.masking import mask_msisdn
from domain.msisdn import parse_msisdn
from runtime.settings import Settings
from store.erasure import OpenCasesRemain, UnknownCustomer, erase_customer
from store.event_store import PostgresEventStore

DEFAULT_ERASE_REASON = "the customer asked to delete their personal data (PIPL art. 47)"

# Erasure is the data controller's act, taken for the carrier by a supervisor.
ERASING_ROLES = (Role.SUPERVISOR,)


async def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    """`starter erase`: erase a customer's personal data from every case of the number."""
    try:
        msisdn = parse_msisdn(args.msisdn)
    except InvalidMsisdn as error:
        raise BadInput(f"msisdn: {error}") from None
    reason = args.reason.strip()
    if not reason or len(reason) > 500:
        raise BadInput("--reason: say in 1-500 characters why (e.g. \"the customer's request of 2026-12-01\")")
    # Who erases is who logged in: the role is the token's, never a flag.
    eraser = (await logged_in(settings, args.actor)).actor
    if eraser.role not in ERASING_ROLES:
        allowed = " or ".join(role.value for role in ERASING_ROLES)
        raise CliError(f"erasure is a {allowed}'s act; {eraser.subject} is {eraser.role.value}: nothing was erased")
    actor = eraser.actor(ActorChannel.CLI)
    shown = mask_msisdn(msisdn)
    async with _audit_database(settings) as pool:
        store = PostgresEventStore(pool, _vault(settings))
        try:
            result = await erase_customer(store, msisdn, actor=actor, reason=reason, at=datetime.now(UTC))
        except UnknownCustomer:
            raise CliError(f"no stored case has the number {shown}: nothing to erase, nothing changed") from None
        except OpenCasesRemain as error:
            raise CliError(
                f"{shown} still has open case(s) {', '.join(error.complaint_ids)}: resolve or withdraw them "
                "first (their workflows still hold the data); nothing was erased"
            ) from None
    if not result.changed:
        when = _local(result.already_erased_at) if result.already_erased_at else "earlier"
        print(f"the personal data of {shown} was already erased on {when} (Asia/Shanghai) by "
              f"{result.already_erased_by}: nothing changed")
        return 0
    cases = ", ".join(f"{case.complaint_id} (event {case.seq})" for case in result.cases) or "none"
    print(
        f"erased the personal data of {shown}: destroyed key(s) {', '.join(result.key_ids)}; "
        f"PersonalDataErased by {actor.id} recorded on {len(result.cases)} case(s): {cases}. "
        "Their number, name and ID number now read [erased]; the hash chains are unchanged"
    )
    for pending in result.pending_follow_ups:
        print(f"note: case {pending.complaint_id} has a follow-up ({pending.follow_up}) due {_local(pending.due_at)}: "
              "its workflow keeps the number in its own input until it runs")
    return 0


