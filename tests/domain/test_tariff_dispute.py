"""tariff_dispute decisions with the seed's figures: AG-HZ-017 sold 13758250617 on SZX-58 without
explaining the tariff; the joint verification agrees a 30 yuan refund and a move to SZX-18."""

from __future__ import annotations

from domain.playbooks.tariff_dispute import decide_tariff_remedy
from stories.tariff_dispute import TARIFF_FINDING, TARIFF_NEW_PLAN_CODE, TARIFF_PLAN_CODE, TARIFF_REFUND_FEN


def test_a_tariff_not_explained_gets_the_agreed_remedy() -> None:
    remedy = decide_tariff_remedy(
        tariff_explained=False,
        finding=TARIFF_FINDING,
        agreed_refund_fen=TARIFF_REFUND_FEN,
        agreed_plan_code=TARIFF_NEW_PLAN_CODE,
        current_plan_code=TARIFF_PLAN_CODE,
    )
    assert remedy.action == "agent_remedy"
    assert remedy.refund_fen == 3000
    assert remedy.new_plan_code == "SZX-18"
    assert "¥30.00" in remedy.reason and "SZX-58" in remedy.reason


def test_a_tariff_explained_at_sale_gets_an_explanation_and_no_money() -> None:
    remedy = decide_tariff_remedy(
        tariff_explained=True,
        finding="售卡时已书面告知资费",
        agreed_refund_fen=TARIFF_REFUND_FEN,
        agreed_plan_code=TARIFF_NEW_PLAN_CODE,
        current_plan_code=TARIFF_PLAN_CODE,
    )
    assert remedy.action == "explain"
    assert remedy.refund_fen == 0 and remedy.new_plan_code is None


def test_a_plan_change_to_the_same_plan_is_no_change() -> None:
    remedy = decide_tariff_remedy(
        tariff_explained=False,
        finding="未说明",
        agreed_refund_fen=0,
        agreed_plan_code=TARIFF_PLAN_CODE,
        current_plan_code=TARIFF_PLAN_CODE,
    )
    assert remedy.action == "agent_remedy"
    assert remedy.refund_fen == 0 and remedy.new_plan_code is None
    assert "apology" in remedy.reason
