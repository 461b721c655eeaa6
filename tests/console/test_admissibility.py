"""The console's filing form takes the disputed day: a billing dispute about charges older than 5 months is filed,
rejected at intake, and its case page says so with the rule; a day after today is refused and files nothing."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import httpx

from domain.actors import Actor, Role
from domain.clock import local_day
from domain.regulatory import months_before
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from tests.console.conftest import RunningConsole
from tests.identity import signed

AGENT = Actor(id="agent-chen", role=Role.AGENT)
RULE = "MIIT: billing disputes older than 5 months are not accepted"
FORM = {"category": "billing_spike", "msisdn": BILLING_SPIKE_CUSTOMER.msisdn, "name": BILLING_SPIKE_CUSTOMER.name,
        "description": "话费比平时高四倍", "priority": "normal", "channel": "store"}


async def test_a_six_month_old_billing_dispute_filed_in_the_console_shows_rejected_with_the_rule(
    console: RunningConsole,
) -> None:
    today = local_day(datetime.now(UTC))
    six_months_ago = months_before(today, 6)
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(AGENT)}, timeout=30) as http:
        page = await http.get("/console/file")
        assert page.status_code == 200 and 'name="disputed_since" type="date"' in page.text

        future = (today + timedelta(days=1)).isoformat()
        bad = await http.post("/console/file", data={**FORM, "disputed_since": future})
        assert bad.status_code == 400 and "not filed: disputed_since: " in html.unescape(bad.text)
        assert f'value="{future}"' in bad.text  # kept, to correct

        filed = await http.post("/console/file", data={**FORM, "disputed_since": six_months_ago.isoformat()})
        assert filed.status_code == 303
        location = unquote(filed.headers["location"])
        complaint_id = location.split("/console/cases/")[1].split("?")[0]
        assert f"rejected at intake: {RULE}" in location

        case = await http.get(f"/console/cases/{complaint_id}")
        assert case.status_code == 200
        text = html.unescape(case.text)
        assert '<dd id="case-status">closed</dd>' in text
        assert f"<dt>Rejected at intake</dt><dd id=\"rejection\"><strong>{RULE}</strong>: " in text
        assert f"the disputed charges date from {six_months_ago}" in text
        assert f"<dt>Disputed since</dt><dd>{six_months_ago}</dd>" in text
        assert "REJECTED at intake" in text  # the timeline's line
