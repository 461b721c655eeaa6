"""Delivery commands.

The dead-letter list of webhooks and notifications, replaying one of them, and the embedded notification adapter's
mailbox.

They read PostgreSQL only, like the audit commands, and need a supervisor's login: the same people who
manage the hub's listeners through the API.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from cli.connect import BadInput, CliError, database
from cli.login import as_option, logged_in
from delivery import dead_letters
from domain.actors import Role
from domain.clock import format_local
from domain.masking import scrub
from runtime.settings import ConfigError, Settings
from store.pii import PersonalDataVault

DELIVERY_ROLES = (Role.SUPERVISOR,)


async def _supervisor(settings: Settings, as_id: str | None) -> None:
    actor = (await logged_in(settings, as_id)).actor
    if not actor.has_role(*DELIVERY_ROLES):
        allowed = " or ".join(role.value for role in DELIVERY_ROLES)
        raise CliError(f"the dead-letter list is for a {allowed}; {actor.subject} is {actor.role.value}")


async def cmd_dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    """`starter dead-letters`: list the webhooks and notifications whose every retry failed."""
    await _supervisor(settings, args.actor)
    async with database(settings) as pool:
        letters = await dead_letters.dead_letters(pool, limit=args.limit)
    if args.json:
        print(json.dumps([dataclasses.asdict(letter) for letter in letters], default=str, indent=2))
        return 0
    if not letters:
        print("no dead letters: every webhook and notification was delivered, is on its way, or was cancelled")
        return 0
    for letter in letters:
        held = f"; {letter.held_back} later event(s) of the ticket wait behind it" if letter.held_back else ""
        print(f"{letter.kind} {letter.id}  {letter.complaint_id}  {letter.what} -> {letter.destination}  "
              f"dead {format_local(letter.dead_at)} after {letter.attempts} attempts: {letter.last_error}{held}")
    print(f"replay one with: starter.py replay-dead-letter KIND ID ({len(letters)} shown)")
    return 0


async def cmd_replay_dead_letter(args: argparse.Namespace, settings: Settings) -> int:
    """`starter replay-dead-letter`: queue one dead letter for delivery again."""
    await _supervisor(settings, args.actor)
    async with database(settings) as pool:
        replayed = await dead_letters.replay(pool, args.kind, args.id)
    if not replayed:
        raise CliError(f"no dead {args.kind} {args.id}: delivered, replayed already, or its listener is gone")
    print(f"{args.kind} {args.id} is back in line: the relay sends it again (same webhook-id), retries anew")
    return 0


async def cmd_mailbox(args: argparse.Namespace, settings: Settings) -> int:
    """`starter mailbox`: show the notifications the engine sent."""
    await _supervisor(settings, args.actor)
    try:
        vault = PersonalDataVault.from_settings(settings)
    except ConfigError as error:
        raise BadInput(str(error)) from None
    async with database(settings) as pool:
        rows = await pool.fetch(
            """SELECT id, complaint_id, recipient_role, recipient, subject, body, received_at
               FROM notification_mailbox WHERE ($1::text IS NULL OR complaint_id = $1)
               ORDER BY id DESC LIMIT $2""",
            args.complaint_id,
            args.limit,
        )
        opened = await vault.unseal(
            pool, [{"recipient": r["recipient"], "subject": r["subject"], "body": r["body"]} for r in rows]
        )
    if not rows:
        print("the mailbox is empty")
        return 0
    for row, mail in zip(reversed(rows), reversed(opened), strict=True):
        assert isinstance(mail, dict)
        # Numbers stay masked on a terminal, as in the logs; the mailbox itself keeps them sealed.
        print(f"{format_local(row['received_at'])}  {row['complaint_id']}  to {row['recipient_role']} "
              f"{scrub(str(mail['recipient']))}: {scrub(str(mail['subject']))}")
        print(f"    {scrub(str(mail['body']))}")
    return 0


def register(command: Any) -> None:
    """Add the delivery commands to the starter's parser."""
    listing = command("dead-letters", cmd_dead_letters,
                      "list webhooks and notifications whose every retry failed, with their last error")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    as_option(listing)
    replay = command("replay-dead-letter", cmd_replay_dead_letter,
                     "put a dead letter back in line with a fresh round of retries")
    replay.add_argument("kind", choices=["webhook", "notification"])
    replay.add_argument("id", type=int)
    as_option(replay)
    mailbox = command("mailbox", cmd_mailbox,
                      "the notifications the embedded notification adapter delivered (its local mailbox), oldest first")
    mailbox.add_argument("complaint_id", nargs="?", help="only this case's")
    mailbox.add_argument("--limit", type=int, default=50, help="the latest this many (default 50)")
    as_option(mailbox)
