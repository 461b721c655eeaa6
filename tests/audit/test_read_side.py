"""The read-side commands that need PostgreSQL only: rebuild-projections, show --as-of, history."""

from __future__ import annotations

import json

import asyncpg

from store.pii import default_vault
from tests.audit.cases import store_case
from tests.audit.conftest import AuditDb


async def snapshot(pool: asyncpg.Pool) -> list[dict[str, object]]:
    """The read model's rows, the folded state opened: each rebuild seals it again under fresh nonces."""
    rows = await pool.fetch("SELECT *, state::text AS state FROM complaints ORDER BY complaint_id")
    opened = await default_vault().unseal(pool, [json.loads(row["state"] or "null") for row in rows])
    return [{**dict(row), "state": state} for row, state in zip(rows, opened, strict=True)]


async def test_rebuild_projections_gives_the_same_rows(audit_db: AuditDb, cli) -> None:
    for case in ("CASE-A", "CASE-B", "CASE-C"):
        await store_case(audit_db.pool, case)
    before = await snapshot(audit_db.pool)
    assert [row["status"] for row in before] == ["closed"] * 3
    # The read model is not protected like the events: damage it, and add a row no event backs.
    await audit_db.pool.execute(
        "UPDATE complaints SET status = 'filed', escalation_level = 3 WHERE complaint_id = 'CASE-B'"
    )
    await audit_db.pool.execute("INSERT INTO complaints (complaint_id, status) VALUES ('CASE-GHOST', 'filed')")
    assert await snapshot(audit_db.pool) != before

    result = await cli(audit_db.url)("rebuild-projections")

    assert result.code == 0, result.err
    assert result.out.strip() == "rebuilt the read model (complaints) from the event store: 3 case(s)"
    assert await snapshot(audit_db.pool) == before


async def test_show_as_of_between_two_events_shows_the_earlier_state(audit_db: AuditDb, cli) -> None:
    # Events at 09:00, 09:01, 09:03, 09:03, 09:08 (resolved), 09:11, 09:11 (closed), Asia/Shanghai.
    await store_case(audit_db.pool, "CASE-A")
    run = cli(audit_db.url)

    earlier = await run("show", "CASE-A", "--as-of", "2026-11-25T09:05")
    assert earlier.code == 0, earlier.err
    lines = earlier.out.splitlines()
    assert lines[0] == "As of 2026-11-25 09:05:00 (Asia/Shanghai): events 1-4 of 7"
    assert "status investigating" in earlier.out
    assert "Identity verified" in earlier.out and "Resolved" not in earlier.out and "Closed" not in earlier.out

    as_json = await run("show", "CASE-A", "--as-of", "2026-11-25T01:09:00Z", "--json")
    data = json.loads(as_json.out)
    assert data["events_included"] == 5 and data["events_total"] == 7
    assert data["state"]["status"] == "resolved" and data["state"]["outcome"] == "forwarding_cancelled"
    assert [event["seq"] for event in data["timeline"]] == [1, 2, 3, 4, 5]

    now = await run("show", "CASE-A", "--as-of", "2030-01-01T00:00")
    assert "events 1-7 of 7" in now.out and "status closed" in now.out

    before = await run("show", "CASE-A", "--as-of", "2026-11-25T08:59")
    assert before.code == 1 and "had not been filed yet at 2026-11-25 08:59:00" in before.err
    unknown = await run("show", "CASE-NONE", "--as-of", "2026-11-25T08:59")
    assert unknown.code == 1 and "no case CASE-NONE" in unknown.err


async def test_history_tells_the_case_in_business_words_from_postgres_alone(audit_db: AuditDb, cli) -> None:
    await store_case(audit_db.pool, "CASE-A")
    run = cli(audit_db.url)  # TEMPORAL_ADDRESS points nowhere: this must not need it

    result = await run("history", "CASE-A")

    assert result.code == 0, result.err
    out = result.out
    assert "Case CASE-A  [forwarding_cancel, normal]  status closed" in out
    assert "    1  2026-11-25 09:00:00  agent-007 (agent, api)" in out
    assert "customer (customer, store)" in out and "Customer answered 'yes'" in out
    assert "Evidence [identity]: name and ID number match the billing system" in out
    assert "facts: matched=true; balance=¥58.20" in out
    assert "Hash chain intact: 7 events, head at event 7." in out
    assert "Temporal runs archived: none yet" in out
    assert "13905710001" not in out and "330106198001011235" not in out  # masked on screen

    raw = await run("history", "CASE-A", "--raw")
    assert raw.code == 1 and "no archived Temporal history for case CASE-A" in raw.err


async def test_commands_on_a_database_without_the_audit_tables_say_what_to_do(server_url: str, cli) -> None:
    import uuid

    from tests.conftest import _with_database

    name = f"complaints_bare_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        result = await cli(_with_database(server_url, name))("verify", "--all")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert result.code == 1 and "start the worker once" in result.err
