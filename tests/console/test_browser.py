"""The supervisor's console in a real browser: log in, find the case in the queue, approve the double refund,
see the timeline and the dashboard move; an agent gets no approve button, and a forged approve is refused."""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page, expect

from client.api import ComplaintClient
from client.queries import CaseFilter
from domain.actors import Actor, Role
from domain.cases import Category, Status
from domain.intake import ComplaintIntake
from domain.money import format_yuan
from stories.bill_discrepancy import BILL_OVERCHARGE_CUSTOMER, OVERCHARGE_FEN
from tests.console.conftest import SCREENSHOTS, RunningConsole
from tests.helpers import reset_sandboxes, wait_until
from workflows.messages import CaseView

FILER = Actor(id="agent-li", role=Role.AGENT)
DESCRIPTION = "系统扣费比网站多"


async def log_in(browser: Browser, url: str, user: str) -> Page:
    page = await browser.new_page(locale="zh-CN")
    await page.goto(f"{url}/console/login")
    await page.get_by_label("User id").fill(user)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await expect(page).to_have_url(f"{url}/console/queue")
    return page


async def a_double_refund_waiting(client: ComplaintClient, console: RunningConsole) -> str:
    await reset_sandboxes(console.engine.env["PARTNER_URL"], console.engine.pool)
    case = ComplaintIntake(
        complaint_id=f"CONSOLE-{uuid.uuid4().hex[:8]}", category=Category.BILL_DISCREPANCY,
        msisdn=BILL_OVERCHARGE_CUSTOMER.msisdn, customer_name=BILL_OVERCHARGE_CUSTOMER.name,
        description=DESCRIPTION, filed_by=FILER,
    )
    await client.file(case)

    def waiting(view: CaseView) -> bool:
        return any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values())

    await wait_until(client, case.complaint_id, waiting, "a double refund waiting for approval")
    for _ in range(200):  # visibility follows the workflow's upserts a moment later
        listed = await client.list_cases(CaseFilter(status=Status.AWAITING_APPROVAL))
        if case.complaint_id in [row.complaint_id for row in listed]:
            break
    return case.complaint_id


async def test_a_supervisor_approves_a_double_refund_and_an_agent_cannot(
    console: RunningConsole, browser: Browser
) -> None:
    client = console.engine.client
    complaint_id = await a_double_refund_waiting(client, console)
    case_url = f"{console.url}/console/cases/{complaint_id}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # An agent sees the case, but no approve button; a forged approve is refused by the case itself.
    agent = await log_in(browser, console.url, "agent-chen")
    await agent.goto(case_url)
    await expect(agent.locator("#case-status")).to_have_text("awaiting_approval")
    await expect(agent.get_by_role("button", name="Approve adj-1")).to_have_count(0)
    forged = await agent.request.post(f"{case_url}/decide", form={"adjustment_id": "adj-1", "decision": "approve"})
    assert forged.status == 403 and "approvals need one of" in await forged.text()
    assert (await client.view(complaint_id)).state.adjustments["adj-1"].status == "proposed"
    await agent.close()

    # The supervisor finds it among the cases at risk within two days, opens it and approves.
    supervisor = await log_in(browser, console.url, "sup-zhang")
    await supervisor.goto(f"{console.url}/console/queue?tab=at-risk&within=48")
    row = supervisor.locator(f'tr[data-case="{complaint_id}"]')
    await expect(row).to_contain_text("due soon")
    await expect(supervisor.locator('[data-tab="awaiting-approval"] .count')).not_to_have_text("(0)")
    await supervisor.screenshot(path=SCREENSHOTS / "queue.png", full_page=True)
    await row.get_by_role("link", name=complaint_id).click()
    await expect(supervisor).to_have_url(case_url)
    await expect(supervisor.locator("h1")).to_have_text(f"Case {complaint_id}")  # a page, not one inside the queue
    await expect(supervisor.get_by_text(DESCRIPTION).first).to_be_visible()  # Chinese text on the page
    await expect(supervisor.locator("#chain")).to_contain_text("chain verified")
    await supervisor.get_by_role("button", name="Approve adj-1").click()
    await expect(supervisor.get_by_role("status")).to_contain_text("approved adj-1")
    await expect(supervisor.locator('#timeline li[data-type="AdjustmentApproved"]')).to_contain_text("sup-zhang")
    await supervisor.screenshot(path=SCREENSHOTS / "case.png", full_page=True)

    # Once the refund is applied, the dashboard's money figure is the story's hand count: twice the overcharge.
    await wait_until(client, complaint_id, lambda v: v.state.adjustments["adj-1"].status == "applied", "applied")
    await supervisor.goto(f"{console.url}/console/dashboard")
    await expect(supervisor.locator('#money-by-kind tr[data-kind="double_refund"]')).to_contain_text(
        format_yuan(2 * OVERCHARGE_FEN)
    )
    await supervisor.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
    await supervisor.close()
    await client.temporal.get_workflow_handle(complaint_id).terminate("test over")
