"""The console's door: a token from the identity provider logs in (HttpOnly cookie), a forged one does not,
a customer's login is no console login, and a post from another site is refused."""

from __future__ import annotations

import httpx

from auth.tokens import SigningKey
from domain.actors import Actor, Role
from tests.console.conftest import RunningConsole
from tests.identity import signed

SUPERVISOR = Actor(id="sup-li", role=Role.SUPERVISOR)


async def test_a_token_logs_in_and_a_forged_or_customer_token_does_not(console: RunningConsole) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        answer = await http.post("/console/login", data={"token": signed(SUPERVISOR)})
        assert answer.status_code == 303 and answer.headers["location"] == "/console/queue"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        queue = await http.get("/console/queue")
        assert queue.status_code == 200 and "sup-li (supervisor)" in queue.text

    forged = signed(SUPERVISOR, key=SigningKey.generate("not-trusted"))
    customer = signed(Actor(id="cust-1", role=Role.CUSTOMER), msisdn="13905710001")
    async with httpx.AsyncClient(base_url=console.url) as http:
        refused = await http.post("/console/login", data={"token": forged})
        assert refused.status_code == 401 and "login refused" in refused.text
        assert (await http.get("/console/queue")).status_code == 303  # back to the login form
        not_staff = await http.post("/console/login", data={"token": customer})
        assert not_staff.status_code == 401 and "the console is for staff" in not_staff.text
        assert "set-cookie" not in not_staff.headers


async def test_a_post_from_another_site_is_refused(console: RunningConsole) -> None:
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(SUPERVISOR)}) as http:
        answer = await http.post("/console/cases/ANY/note", data={"text": "hello"},
                                 headers={"Origin": "https://evil.example"})
        assert answer.status_code == 403 and "cross-site" in answer.text


async def test_the_timed_refresh_gets_the_table_alone_and_a_bad_number_is_said(console: RunningConsole) -> None:
    async with httpx.AsyncClient(base_url=console.url, cookies={"console_session": signed(SUPERVISOR)}) as http:
        page = await http.get("/console/queue", params={"tab": "stalled"})
        assert page.status_code == 200 and "<html" in page.text and 'hx-trigger="every 15s"' in page.text
        fragment = await http.get("/console/queue", params={"tab": "stalled"}, headers={"HX-Target": "queue-body"})
        assert "<html" not in fragment.text
        assert 'aria-current="page" class="current" data-tab="stalled"' in fragment.text
        bad = await http.get("/console/queue", params={"phone": "1390571"})
        assert bad.status_code == 200 and "filter not understood" in bad.text and "11 digits" in bad.text
