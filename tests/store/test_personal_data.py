"""Personal data at rest: sealed under per-customer keys in every table, opened on read, and erased by
destroying the key, after which the chains still verify and everything else still reads."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import ActivityEnvironment

from activities.notifications import Notification
from audit.export import masked_events
from delivery.relay import Relay
from domain import events as ev
from domain.personal_data import ERASED
from store.event_store import EventConflict, PostgresEventStore
from tests.audit.conftest import AuditDb
from tests.domain.factories import Stream
from tests.helpers import outbox_activities
from tests.store.cases import CALLED, QIAN, ZHAO, Customer, closed_case

ERASE_ZHAO = ("erase", "--msisdn", "+86 139 0571 0001", "--reason", "the customer's request of 2026-12-01",
              "--as", "sup-zhang")


async def store_case(pool: asyncpg.Pool, complaint_id: str, customer: Customer, *, close: bool = True) -> None:
    await PostgresEventStore(pool).append(complaint_id, closed_case(complaint_id, customer, close=close))


async def everything_stored(pool: asyncpg.Pool) -> str:
    """Every row of every table the engine writes personal data to, as text."""
    parts = []
    for table in ("complaint_events", "complaints", "notification_outbox", "customer_keys", "complaint_keys",
                  "tmf_event_outbox", "notification_mailbox"):
        parts.append(await pool.fetchval(f"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t"))
    return "\n".join(parts)


async def counts(pool: asyncpg.Pool) -> tuple[object, ...]:
    return (
        await pool.fetchval("SELECT count(*) FROM complaint_events"),
        await pool.fetchval("SELECT count(*) FROM customer_keys WHERE erased_at IS NULL"),
        await pool.fetchval("SELECT string_agg(last_hash, ',' ORDER BY complaint_id) FROM complaints"),
    )


async def test_no_personal_value_is_stored_in_clear_and_reads_open_them(audit_db: AuditDb) -> None:
    await store_case(audit_db.pool, "CASE-A", ZHAO)
    await store_case(audit_db.pool, "CASE-B", QIAN, close=False)
    reminder = Notification(
        idempotency_key="CASE-A/remind-1", complaint_id="CASE-A", recipient_role="customer",
        recipient=ZHAO.msisdn, subject="A reminder about your complaint", body=f"Dear {ZHAO.name}, please answer",
    )
    assert await ActivityEnvironment().run(outbox_activities(audit_db.pool).notify, reminder)
    async with Relay(audit_db.pool) as relay:  # the notification reaches the mailbox, the TMF events are queued
        assert await relay.run_once() == 1

    stored = await everything_stored(audit_db.pool)
    for value in [*ZHAO.clear_values, *QIAN.clear_values, CALLED, "139 0571 0001"]:
        assert value not in stored, f"{value} is stored in clear"
    # A group of the number on its own (a half-masked "139 0571 ****"), not four digits inside a hash, a sealed
    # value's base64 or a timestamp, which hold "0571" by chance now and then.
    assert not re.search(r"(?<![0-9A-Za-z])0571(?![0-9A-Za-z])", stored), "a group of the number is stored in clear"
    assert "pii:v1:ck-" in stored  # sealed, not dropped

    events = await PostgresEventStore(audit_db.pool).load("CASE-A")
    assert events == closed_case("CASE-A", ZHAO)  # every value opened exactly as it was sent
    masked = masked_events(events)  # for readers without the right to see them
    filed = masked[0]
    assert isinstance(filed, ev.ComplaintFiled)
    assert (filed.msisdn, filed.customer_name, filed.id_number) == ("139****0001", "***", "3301**********1235")
    assert not [v for v in ZHAO.clear_values if v in json.dumps([e.model_dump(mode="json") for e in masked],
                                                                 ensure_ascii=False)]
    state = await PostgresEventStore(audit_db.pool).state("CASE-B")
    assert state is not None and (state.msisdn, state.customer_name) == (QIAN.msisdn, QIAN.name)


async def test_a_retried_append_is_a_no_op_and_changed_content_still_conflicts(audit_db: AuditDb) -> None:
    store = PostgresEventStore(audit_db.pool)
    events = closed_case("CASE-A", ZHAO)
    await store.append("CASE-A", events)

    again = await store.append("CASE-A", events)  # each seal has a fresh nonce: compared opened

    assert (again.appended, again.already_stored) == (0, len(events))
    changed = events[0].model_copy(update={"customer_name": "赵先生X"})
    with pytest.raises(EventConflict):
        await store.append("CASE-A", [changed])


async def test_erase_shreds_one_customer_and_keeps_every_chain(audit_db: AuditDb, cli, tmp_path: Path) -> None:
    run = cli(audit_db.url)
    await store_case(audit_db.pool, "CASE-A", ZHAO)
    await store_case(audit_db.pool, "CASE-A2", ZHAO)
    await store_case(audit_db.pool, "CASE-B", QIAN)
    heads_before = await audit_db.pool.fetch("SELECT seq, hash FROM complaint_events ORDER BY complaint_id, seq")

    erased = await run(*ERASE_ZHAO)

    assert erased.code == 0, erased.err
    assert erased.out.startswith("erased the personal data of 139****0001: destroyed key(s) ck-")
    assert "on 2 case(s): CASE-A (event 9), CASE-A2 (event 9)" in erased.out
    # Nothing stored before was touched: the events are as they were, one more on each erased case.
    after = await audit_db.pool.fetch("SELECT seq, hash FROM complaint_events ORDER BY complaint_id, seq")
    assert [tuple(r) for r in heads_before] == [tuple(r) for r in after if (r["seq"], r["hash"]) in
                                                {(b["seq"], b["hash"]) for b in heads_before}]
    assert len(after) == len(heads_before) + 2

    history = await run("history", "CASE-A", "--json")
    assert history.code == 0, history.err
    shown = json.loads(history.out)
    state, timeline = shown["state"], shown["timeline"]
    assert (state["msisdn"], state["customer_name"], state["id_number"]) == (ERASED, ERASED, ERASED)
    assert timeline[0]["description"] == ERASED and timeline[3]["text"] == ERASED
    assert timeline[2]["facts"]["customer"] == ERASED and timeline[2]["facts"]["matched"] is True
    assert timeline[4]["citations"][0]["record_id"] == ERASED and timeline[4]["amount_fen"] == 2400
    last = timeline[-1]
    assert (last["type"], last["actor"]["id"], last["reason"]) == (
        "PersonalDataErased", "sup-zhang", "the customer's request of 2026-12-01")
    assert shown["verification"]["intact"]

    other = json.loads((await run("history", "CASE-B", "--json")).out)
    assert (other["state"]["msisdn"], other["state"]["customer_name"]) == (QIAN.msisdn, QIAN.name)
    assert other["timeline"][2]["facts"]["calls"][0]["other_party"] == CALLED

    verified = await run("verify", "--all")
    assert verified.code == 0, verified.out + verified.err
    assert verified.out.startswith("OK: checked 3 case(s), 26 event(s)")
    # The cases' citations name no real billing record: deep verification fetches CASE-B's and misses
    # it, while the erased cases' record ids read [erased] and are not fetched.
    deep = await run("verify", "--all", "--deep")
    assert deep.out.splitlines()[0].startswith("EVIDENCE case CASE-B event 5")
    assert "1 cited billing record(s)" in deep.out

    bundle_file = tmp_path / "case.json"
    exported = await run("export", "CASE-A", "-o", str(bundle_file))
    assert exported.code == 0, exported.err
    bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    assert bundle["verification"]["intact"]
    assert bundle["events"][0]["event"]["msisdn"] == ERASED
    assert bundle["events"][0]["stored"]["msisdn"].startswith("pii:v1:ck-")
    assert bundle["events"][1]["event"]["message"] == "we are on it"

    masked = await run("export", "CASE-B", "--masked")
    assert masked.code == 0, masked.err
    masked_bundle = json.loads(masked.out)
    assert masked_bundle["personal_data"] == "masked" and masked_bundle["verification"]["intact"]
    assert masked_bundle["events"][0]["event"]["msisdn"] == "136****8765"
    assert not [v for v in QIAN.clear_values if v in masked.out]

    as_of = await run("show", "CASE-A", "--as-of", "2026-11-25T09:02")
    assert as_of.code == 0, as_of.err
    assert "[erased]" in as_of.out and ZHAO.name not in as_of.out

    rebuilt = await run("rebuild-projections")
    assert rebuilt.code == 0, rebuilt.err
    rows = {r["complaint_id"]: r for r in await audit_db.pool.fetch("SELECT * FROM complaints")}
    assert (rows["CASE-A"]["msisdn_masked"], rows["CASE-A"]["customer_ref"]) == (ERASED, None)
    assert rows["CASE-B"]["msisdn_masked"] == "136****8765" and rows["CASE-B"]["customer_ref"] is not None
    assert await audit_db.pool.fetchval(
        "SELECT count(*) FROM customer_keys WHERE wrapped_key IS NULL AND erased_by = 'sup-zhang'") == 1

    # A retry changes nothing and says so.
    before = await counts(audit_db.pool)
    retried = await run(*ERASE_ZHAO)
    assert retried.code == 0, retried.err
    assert "was already erased on" in retried.out and "by sup-zhang: nothing changed" in retried.out
    assert await counts(audit_db.pool) == before


async def test_erase_refuses_an_unknown_number_an_open_case_and_bad_input(audit_db: AuditDb, cli) -> None:
    run = cli(audit_db.url)
    await store_case(audit_db.pool, "CASE-A", ZHAO, close=False)
    before = await counts(audit_db.pool)

    unknown = await run("erase", "--msisdn", "13700000000", "--reason", "asked", "--as", "sup-zhang")
    assert unknown.code == 1
    assert unknown.err.strip().splitlines() == [
        "error: no stored case has the number 137****0000: nothing to erase, nothing changed"]

    still_open = await run(*ERASE_ZHAO)
    assert still_open.code == 1
    assert "139****0001 still has open case(s) CASE-A" in still_open.err and "nothing was erased" in still_open.err

    malformed = await run("erase", "--msisdn", "1390571000", "--reason", "asked", "--as", "sup-zhang")
    assert malformed.code == 2 and "11 digits" in malformed.err
    not_supervisor = await run("erase", "--msisdn", ZHAO.msisdn, "--reason", "asked", "--as", "agent")
    assert not_supervisor.code == 1 and "erasure is a supervisor's act; agent is agent" in not_supervisor.err

    assert await counts(audit_db.pool) == before
    assert ZHAO.msisdn not in unknown.err + still_open.err


async def test_a_customer_who_files_again_after_erasure_gets_a_new_key(audit_db: AuditDb, cli) -> None:
    run = cli(audit_db.url)
    await store_case(audit_db.pool, "CASE-A", ZHAO)
    assert (await run(*ERASE_ZHAO)).code == 0
    await store_case(audit_db.pool, "CASE-C", ZHAO)

    state = await PostgresEventStore(audit_db.pool).state("CASE-C")
    assert state is not None and state.msisdn == ZHAO.msisdn

    again = await run(*ERASE_ZHAO)
    assert again.code == 0, again.err
    assert "on 1 case(s): CASE-C (event 9)" in again.out
    events = await PostgresEventStore(audit_db.pool).load("CASE-A")
    assert [e.type for e in events].count("PersonalDataErased") == 1


async def test_the_key_table_allows_only_erasure(audit_db: AuditDb) -> None:
    await store_case(audit_db.pool, "CASE-A", ZHAO)
    for statement in (
        "UPDATE customer_keys SET customer_ref = repeat('0', 64)",
        "UPDATE customer_keys SET wrapped_key = '\\x00'::bytea",
        "DELETE FROM customer_keys",
        "TRUNCATE customer_keys CASCADE",
        "DELETE FROM complaint_keys",
    ):
        with pytest.raises(asyncpg.RestrictViolationError, match="refused"):
            await audit_db.pool.execute(statement)
    assert isinstance((await PostgresEventStore(audit_db.pool).load("CASE-A"))[0], ev.ComplaintFiled)


async def test_erase_names_a_follow_up_still_to_run(audit_db: AuditDb, cli) -> None:
    events = closed_case("CASE-F", ZHAO, close=False)
    s = Stream("CASE-F")
    s.seq, s.at = events[-1].seq, events[-1].at
    events += [
        s.next(ev.FollowUpScheduled, follow_up="validity_extension", due_at=datetime(2099, 5, 25, tzinfo=UTC),
               workflow_id="follow-up-CASE-F"),
        s.next(ev.ComplaintClosed, reason="confirmed"),
    ]
    await PostgresEventStore(audit_db.pool).append("CASE-F", events)

    erased = await cli(audit_db.url)("erase", "--msisdn", ZHAO.msisdn, "--as", "sup-zhang")

    assert erased.code == 0, erased.err
    assert "on 1 case(s): CASE-F (event 10)" in erased.out
    assert ("note: case CASE-F has a follow-up (validity_extension) due 2099-05-25 08:00:00: its workflow keeps "
            "the number in its own input until it runs") in erased.out
    last = (await PostgresEventStore(audit_db.pool).load("CASE-F"))[-1]
    assert isinstance(last, ev.PersonalDataErased) and "PIPL" in last.reason  # the default reason
