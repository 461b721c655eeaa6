"""`starter.py dead-letters` and `replay-dead-letter`: a supervisor sees what the relay gave up on, and why."""

from __future__ import annotations

import json
from collections.abc import Callable

from temporalio.testing import ActivityEnvironment

from activities.notifications import Notification
from delivery import hub
from delivery.relay import Relay
from domain.masking import mask_msisdn
from tests.audit.conftest import AuditDb, Cli
from tests.delivery.cases import rounds_until, stored_case
from tests.delivery.conftest import FAST, WebhookListener
from tests.helpers import outbox_activities
from tests.store.cases import ZHAO


async def test_a_supervisor_lists_and_replays_a_dead_webhook(
    audit_db: AuditDb, cli: Callable[[str], Cli], listener: WebhookListener
) -> None:
    run = cli(audit_db.url)
    empty = await run("dead-letters", "--as", "sup-zhang")
    assert empty.code == 0 and "no dead letters" in empty.out

    await hub.register(audit_db.pool, listener.url, "", "sup-zhang")
    listener.answer = lambda request, nth: 500
    complaint_id = await stored_case(audit_db.pool)

    async def dead() -> bool:
        return bool(await audit_db.pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'dead'"))

    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, dead, "a dead letter")

    refused = await run("dead-letters", "--as", "auditor")
    assert refused.code == 1 and "supervisor" in refused.err

    listed = await run("dead-letters", "--as", "sup-zhang", "--json")
    assert listed.code == 0, listed.err
    (letter,) = json.loads(listed.out)
    assert (letter["kind"], letter["complaint_id"], letter["last_error"]) == ("webhook", complaint_id, "answered 500")
    shown = await run("dead-letters", "--as", "sup-zhang")
    assert f"webhook {letter['id']}  {complaint_id}" in shown.out and "wait behind it" in shown.out

    replayed = await run("replay-dead-letter", "webhook", str(letter["id"]), "--as", "sup-zhang")
    assert replayed.code == 0 and "back in line" in replayed.out
    again = await run("replay-dead-letter", "webhook", str(letter["id"]), "--as", "sup-zhang")
    assert again.code == 1 and "no dead webhook" in again.err
    assert json.loads((await run("dead-letters", "--as", "sup-zhang", "--json")).out) == []


async def test_a_supervisor_reads_the_mailbox_with_numbers_masked(
    audit_db: AuditDb, cli: Callable[[str], Cli]
) -> None:
    run = cli(audit_db.url)
    assert "the mailbox is empty" in (await run("mailbox", "--as", "sup-zhang")).out
    complaint_id = await stored_case(audit_db.pool)
    notification = Notification(
        idempotency_key=f"{complaint_id}:asked", complaint_id=complaint_id, recipient_role="customer",
        recipient=ZHAO.msisdn, subject="A question about your complaint", body=f"{ZHAO.name}, please answer",
    )
    assert await ActivityEnvironment().run(outbox_activities(audit_db.pool).notify, notification)
    async with Relay(audit_db.pool, config=FAST) as relay:
        await relay.run_once()

    shown = await run("mailbox", complaint_id, "--as", "sup-zhang")
    assert shown.code == 0, shown.err
    assert f"{complaint_id}  to customer {mask_msisdn(ZHAO.msisdn)}: A question about your complaint" in shown.out
    assert f"{ZHAO.name}, please answer" in shown.out and ZHAO.msisdn not in shown.out
    assert (await run("mailbox", "--as", "auditor")).code == 1
