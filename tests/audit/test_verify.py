"""verify: a stored event changed behind the database's back is named by case and seq; the rest holds."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import ActivityType, Payloads, WorkflowType
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    History,
    HistoryEvent,
    WorkflowExecutionStartedEventAttributes,
)
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.event_store import AppendEventsInput
from audit.archive_store import ArchivedRun, PostgresArchiveStore, history_digest
from audit.verify import VerifyReport, verify_all, verify_case
from codec.aes_gcm import KeyRing, encrypt_payload
from domain import events as ev
from domain.hashing import GENESIS_HASH, canonical_json, chain_hash
from tests.audit.cases import forwarding_case, store_case
from tests.audit.conftest import AuditDb
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.domain.factories import T0


async def privileged(url: str) -> asyncpg.Connection:
    """A superuser session with triggers off: what someone tampering with the database would use."""
    conn = await asyncpg.connect(url)
    await conn.execute("SET session_replication_role = replica")
    return conn


async def test_the_database_refuses_to_change_events_or_archived_histories(audit_db: AuditDb) -> None:
    await store_case(audit_db.pool, "CASE-A")
    await PostgresArchiveStore(audit_db.pool).save(archived_run("CASE-A", forwarding_case("CASE-A")))
    async with audit_db.pool.acquire() as conn:
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("UPDATE complaint_events SET actor_id = 'someone' WHERE complaint_id = 'CASE-A'")
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("DELETE FROM temporal_run_archive")
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("TRUNCATE temporal_run_archive")
        assert await conn.fetchval("SELECT count(*) FROM temporal_run_archive") == 1


async def test_a_changed_event_is_named_by_case_and_seq(audit_db: AuditDb, cli) -> None:
    for case in ("CASE-A", "CASE-B", "CASE-C"):
        await store_case(audit_db.pool, case)
    run = cli(audit_db.url)
    clean = await run("verify", "--all")
    assert clean.code == 0, clean.out + clean.err
    assert "checked 3 case(s), 21 event(s)" in clean.out

    conn = await privileged(audit_db.url)
    await conn.execute(
        """UPDATE complaint_events SET payload = jsonb_set(payload, '{summary}', '"nothing was cancelled"')
           WHERE complaint_id = 'CASE-B' AND seq = 5"""
    )
    await conn.close()

    one = await run("verify", "CASE-B")
    assert one.code == 1
    assert "BROKEN  case CASE-B at event 5: stored content does not match its hash" in one.out
    assert "FAILED: checked 1 case(s), 7 event(s)" in one.out

    every = await run("verify", "--all")
    assert every.code == 1
    broken = [line for line in every.out.splitlines() if line.startswith("BROKEN")]
    assert broken == ["BROKEN  case CASE-B at event 5: stored content does not match its hash"]
    assert "checked 3 case(s), 21 event(s)" in every.out

    for case in ("CASE-A", "CASE-C"):
        other = await run("verify", case)
        assert other.code == 0 and other.out.startswith("OK: checked 1 case(s), 7 event(s)")


async def test_events_removed_from_the_end_show_against_the_chain_head(audit_db: AuditDb, cli) -> None:
    """A valid but shorter chain: only the head recorded beside the case shows what is gone."""
    await store_case(audit_db.pool, "CASE-A")
    await store_case(audit_db.pool, "CASE-B")
    conn = await privileged(audit_db.url)
    await conn.execute("DELETE FROM complaint_events WHERE complaint_id = 'CASE-A' AND seq >= 6")
    await conn.execute("DELETE FROM complaint_events WHERE complaint_id = 'CASE-B'")
    await conn.close()

    report = await verify_all(audit_db.pool)
    assert [(b.complaint_id, b.seq, b.problem) for b in report.breaks] == [
        ("CASE-A", 6, "events 6-7 missing: the chain ends at 5, its head at 7"),
        ("CASE-B", 1, "events 1-7 missing: the chain ends at 0, its head at 7"),
    ]
    result = await cli(audit_db.url)("verify", "CASE-A")
    assert result.code == 1 and "case CASE-A at event 6: events 6-7 missing" in result.out


async def test_a_chain_forged_end_to_end_still_disagrees_with_the_archived_history(audit_db: AuditDb) -> None:
    """Rewriting an event AND every hash after it passes the chain check, not the archive's record."""
    events = await store_case(audit_db.pool, "CASE-A")
    store = PostgresArchiveStore(audit_db.pool)
    assert await store.save(archived_run("CASE-A", events))
    assert (await verify_case(audit_db.pool, "CASE-A")).ok

    forged = [*events[:4], events[4].model_copy(update={"summary": "nothing to do"}), *events[5:]]
    conn = await privileged(audit_db.url)
    previous = GENESIS_HASH
    async with conn.transaction():
        for event in forged:
            digest = chain_hash(previous, event)
            await conn.execute(
                "UPDATE complaint_events SET payload = $3::jsonb, prev_hash = $4, hash = $5 "
                "WHERE complaint_id = $1 AND seq = $2",
                "CASE-A", event.seq, canonical_json(event), previous, digest,
            )
            previous = digest
        await conn.execute("UPDATE chain_heads SET last_hash = $1 WHERE complaint_id = 'CASE-A'", previous)
    await conn.close()

    report = await verify_case(audit_db.pool, "CASE-A")
    assert report.breaks == []
    assert [(p.run_id, p.problem) for p in report.archive_problems] == [
        ("run-1", "event 5 in the event store differs from what this run saved")
    ]
    deep = await verify_all(audit_db.pool, deep=True)
    assert [p.problem for p in deep.archive_problems] == [
        "event 5 in the event store differs from what this run saved"
    ]
    assert (await verify_all(audit_db.pool)).ok  # the shallow pass only checks chains and digests


async def test_an_encrypted_archived_history_is_compared_with_the_payload_keys_and_never_skipped(
    audit_db: AuditDb,
) -> None:
    events = await store_case(audit_db.pool, "CASE-A")
    await PostgresArchiveStore(audit_db.pool).save(archived_run("CASE-A", events, keys=TEST_PAYLOAD_KEYS))
    assert (await verify_case(audit_db.pool, "CASE-A", keys=TEST_PAYLOAD_KEYS)).ok
    without = await verify_case(audit_db.pool, "CASE-A")
    assert [p.problem for p in without.archive_problems] == [
        "its history cannot be read: run run-1's archived history is encrypted: reading it needs the payload "
        "keys (PAYLOAD_KEYS)"
    ]
    other = await verify_case(audit_db.pool, "CASE-A", keys=KeyRing.generate("other"))
    assert "'test-session', which the key ring (other) does not hold" in other.archive_problems[0].problem

    conn = await privileged(audit_db.url)
    await conn.execute(
        "UPDATE complaint_events SET payload = jsonb_set(payload, '{summary}', '\"nothing to do\"') "
        "WHERE complaint_id = 'CASE-A' AND seq = 5"
    )
    await conn.close()
    report = await verify_case(audit_db.pool, "CASE-A", keys=TEST_PAYLOAD_KEYS)
    assert "event 5 in the event store differs from what this run saved" in [
        p.problem for p in report.archive_problems
    ]


async def test_a_changed_archived_history_fails_its_digest(audit_db: AuditDb, cli) -> None:
    events = await store_case(audit_db.pool, "CASE-A")
    await PostgresArchiveStore(audit_db.pool).save(archived_run("CASE-A", events))
    conn = await privileged(audit_db.url)
    await conn.execute(
        """UPDATE temporal_run_archive
           SET history = jsonb_set(history, '{events,0,eventTime}', '"2020-01-01T00:00:00Z"')"""
    )
    await conn.close()
    result = await cli(audit_db.url)("verify", "--all")
    assert result.code == 1
    assert "ARCHIVE case CASE-A run run-1: archived history does not match its sha256" in result.out
    assert "0 broken chain(s), 1 archive problem(s)" in result.out


async def test_verify_all_streams_and_reports_progress(audit_db: AuditDb) -> None:
    for number in range(12):
        await store_case(audit_db.pool, f"CASE-{number:02d}")
    seen: list[tuple[int, int]] = []

    def progress(report: VerifyReport) -> None:
        seen.append((report.cases, report.events))

    report = await verify_all(audit_db.pool, progress=progress, progress_every=0)
    assert report.ok and (report.cases, report.events) == (12, 84)
    assert seen[0] == (1, 7) and seen[11] == (12, 84)


async def test_verify_an_unknown_case_says_so(audit_db: AuditDb, cli) -> None:
    result = await cli(audit_db.url)("verify", "CASE-NONE")
    assert result.code == 1 and "no case CASE-NONE in the event store" in result.err
    neither = await cli(audit_db.url)("verify")
    assert neither.code == 2 and "a case id or --all" in neither.err


# --- an archived run built by hand: what the workflow's history records of its appends -----------


def archived_run(complaint_id: str, events: list[ev.Event], keys: KeyRing | None = None) -> ArchivedRun:
    """A run whose history saved `events` in one append_events activity that completed (its input encrypted
    under `keys` if given, as the payload codec leaves it)."""
    (payload,) = pydantic_data_converter.payload_converter.to_payloads(
        [AppendEventsInput(complaint_id=complaint_id, events=events)]
    )
    if keys is not None:
        payload = encrypt_payload(keys, payload)
    at = T0 + timedelta(seconds=1)
    history = History(events=[
        HistoryEvent(
            event_id=1, event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
            workflow_execution_started_event_attributes=WorkflowExecutionStartedEventAttributes(
                workflow_type=WorkflowType(name="ComplaintWorkflow")
            ),
        ),
        HistoryEvent(
            event_id=5, event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
                activity_id="1", activity_type=ActivityType(name="append_events"), input=Payloads(payloads=[payload])
            ),
        ),
        HistoryEvent(
            event_id=7, event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(scheduled_event_id=5),
        ),
    ])
    for event in history.events:
        event.event_time.FromDatetime(at)
    document = json.loads(json.dumps(MessageToDict(history)))
    return ArchivedRun(
        complaint_id=complaint_id,
        run_id="run-1",
        workflow_type="ComplaintWorkflow",
        status="completed",
        started_at=T0,
        closed_at=events[-1].at,
        continued_from_run_id=None,
        history_length=len(history.events),
        history_sha256=history_digest(document),
        history=document,
    )
