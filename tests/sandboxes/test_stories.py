"""stories/: one module per category, each whole: its customer seeded, its demo complaints about it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.cases import Category
from sandboxes.boss_seed import build_seed
from sandboxes.partner_state import PartnerState
from stories import seed_stories, story_modules
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.tariff_dispute import TARIFF_AGENT_CODE, TARIFF_CUSTOMER, TARIFF_REMEDY

NOW = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


def test_every_category_has_one_story_module_telling_only_its_own_complaints() -> None:
    modules = story_modules()
    assert sorted(module.CATEGORY for module in modules) == sorted(Category)
    assert len({module.ORDER for module in modules}) == len(modules)
    for module in modules:
        told = module.stories(NOW)
        assert told, module.__name__
        assert {story.intake.category for story in told} == {module.CATEGORY}


def test_every_demo_complaint_is_about_a_customer_the_billing_sandbox_holds() -> None:
    seeded = {customer.msisdn: customer for customer in build_seed(date(2026, 12, 2)).customers}
    for module in story_modules():
        assert module.CUSTOMER.msisdn in seeded, module.__name__
    for story in seed_stories(NOW):
        customer = seeded[story.intake.msisdn]
        assert customer.name == story.intake.customer_name


def test_the_partner_sandbox_starts_from_the_stories_records() -> None:
    state = PartnerState(seed=0)
    forwarding = state.subscribers[(FORWARDING_CUSTOMER.partner_carrier, FORWARDING_CUSTOMER.partner_msisdn)]
    assert (forwarding.holder_name, forwarding.forward_to, forwarding.active) == (
        FORWARDING_CUSTOMER.name,
        FORWARDING_CUSTOMER.msisdn,
        True,
    )
    sale = state.agents[TARIFF_AGENT_CODE].sales[TARIFF_CUSTOMER.msisdn]
    assert sale.remedy == TARIFF_REMEDY
    # The sandbox hands out a copy: a change to it never reaches the story's record.
    sale.remedy["amount_fen"] = 1  # type: ignore[index]
    assert TARIFF_REMEDY["amount_fen"] == 3000
