"""Filing from the console (bad input refused before anything is sent; the filer is the login, not the form),
the case as it stood at a moment, the chain checks (`verify --all`, `--deep`), the raw Temporal history,
rebuilding the read models, and who the login is (`starter whoami`) in the header."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

import httpx

from audit.archive_store import PostgresArchiveStore
from domain.actors import Actor, ActorChannel, Role
from domain.clock import format_local
from tests.audit.cases import store_case
from tests.audit.test_verify import archived_run
from tests.conftest import TEST_PAYLOAD_KEYS
from tests.console.conftest import RunningConsole
from tests.identity import signed

AGENT = Actor(id="agent-chen", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-zhang", role=Role.SUPERVISOR)


async def test_an_agent_files_a_case_and_reads_it_as_it_stood_then(console: RunningConsole) -> None:
    form = {"category": "spam_sms", "msisdn": "+86 139 0571 0001", "name": "钱女士",
            "description": "每天收到垃圾短信", "priority": "normal", "channel": "store", "filed_by": "sup-zhang"}
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(AGENT)}, timeout=30) as http:
        page = await http.get("/console/file")
        assert page.status_code == 200 and re.search(r"agent-chen \(agent\); login until \d{4}-\d\d-\d\d ", page.text)

        bad = await http.post("/console/file", data={**form, "msisdn": "1390571000"})
        assert bad.status_code == 400 and "not filed: msisdn" in bad.text and "11 digits" in bad.text
        assert "每天收到垃圾短信</textarea>" in bad.text  # what was typed is kept, to correct

        before = datetime.now(UTC)
        filed = await http.post("/console/file", data=form)
        assert filed.status_code == 303
        location = unquote(filed.headers["location"])
        complaint_id = location.split("/console/cases/")[1].split("?")[0]
        assert complaint_id.startswith("CMP-") and f"done=filed {complaint_id} (spam_sms)" in location

        view = await console.engine.client.view(complaint_id)
        # The filer is the login, through the web channel: the form's "filed_by" is not a field the form takes.
        assert (view.state.filed_by.id, view.state.filed_by.channel) == ("agent-chen", ActorChannel.WEB)
        assert view.state.msisdn == "13905710001"

        then = await http.get(f"/console/cases/{complaint_id}/as-of", params={"at": format_local(before)})
        assert then.status_code == 404 and "had not been filed yet" in then.text
        for _ in range(200):  # the first events reach the store a moment after the filing
            now = await http.get(f"/console/cases/{complaint_id}/as-of",
                                 params={"at": format_local(datetime.now(UTC)).replace(" ", "T")})
            if now.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert now.status_code == 200 and "events 1-" in now.text and 'data-type="ComplaintFiled"' in now.text
        assert "每天收到垃圾短信" in now.text
        # `starter list --all --csv`: the view with closed cases too, as the CLI writes it.
        for _ in range(200):  # visibility follows the workflow's upserts a moment later
            listed = await http.get("/console/queue.csv", params={"tab": "all", "phone": "13905710001"})
            if complaint_id in listed.text:
                break
            await asyncio.sleep(0.05)
        assert listed.status_code == 200 and listed.headers["content-type"].startswith("text/csv")
        assert listed.text.startswith("complaint_id,") and complaint_id in listed.text
        nonsense = await http.get(f"/console/cases/{complaint_id}/as-of", params={"at": "yesterday"})
        assert nonsense.status_code == 400 and "not an ISO time" in nonsense.text

        # `verify --all` and `verify CASE --deep`, with the CLI's verdict line.
        every = await http.get("/console/audit", params={"run": "true"})
        assert every.status_code == 200 and "OK: checked " in every.text and "every hash chain holds" in every.text
        deep = await http.get("/console/audit", params={"run": "true", "deep": "true", "case": complaint_id})
        assert "OK: checked 1 case(s)" in deep.text and "cited billing record(s)" in deep.text
        unknown = await http.get("/console/audit", params={"run": "true", "case": "NO-SUCH-CASE"})
        assert unknown.status_code == 404 and "no case NO-SUCH-CASE" in unknown.text
    await console.engine.client.temporal.get_workflow_handle(complaint_id).terminate("test over")


async def test_the_raw_temporal_history_is_the_archived_runs_event_by_event(console: RunningConsole) -> None:
    complaint_id = f"RAW-{uuid.uuid4().hex[:8]}"
    events = await store_case(console.engine.pool, complaint_id)
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(AGENT)}, timeout=30) as http:
        none_yet = await http.get(f"/console/cases/{complaint_id}/history.txt")
        assert none_yet.status_code == 404 and "archived when it closes" in none_yet.text
        await PostgresArchiveStore(console.engine.pool).save(archived_run(complaint_id, events, TEST_PAYLOAD_KEYS))
        raw = await http.get(f"/console/cases/{complaint_id}/history.txt")
        assert raw.status_code == 200 and raw.text.startswith(f"Temporal history of case {complaint_id}")
        assert "ComplaintWorkflow" in raw.text and "ActivityTaskScheduled" in raw.text and "append_events" in raw.text
        # The chain and the archived run agree: the audit page says so for this case.
        checked = await http.get("/console/audit", params={"run": "true", "case": complaint_id})
        assert "OK: checked 1 case(s), " in checked.text and "1 archived Temporal run(s)" in checked.text


async def test_a_supervisor_rebuilds_the_read_models_and_an_agent_may_not(console: RunningConsole) -> None:
    pool = console.engine.pool
    await store_case(pool, f"REBUILD-{uuid.uuid4().hex[:8]}")
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(AGENT)}, timeout=30) as http:
        refused = await http.post("/console/audit/rebuild-projections")
        assert refused.status_code == 403 and "a supervisor rebuilds" in refused.text
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(SUPERVISOR)},
                                 timeout=30) as http:
        rebuilt = await http.post("/console/audit/rebuild-projections", follow_redirects=True)
    cases = await pool.fetchval("SELECT count(DISTINCT complaint_id) FROM complaint_events")
    assert rebuilt.status_code == 200 and f"from the event store: {cases} case(s)" in rebuilt.text
    assert await pool.fetchval("SELECT count(*) FROM complaints") == cases
