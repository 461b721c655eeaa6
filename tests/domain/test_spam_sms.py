"""spam_sms decisions with the seed's subscriptions and senders: 星座运程 was never ordered, 天气预报 was
(and comes as web SMS, so a web block would stop it too), three personal numbers send junk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from domain.playbooks.spam_sms import plan_spam_response
from sandboxes.boss_seed import build_seed
from stories.spam_sms import HOROSCOPE_SP, SPAM_SENDERS, SPAM_SMS_CUSTOMER, WEATHER_SP

T = datetime(2024, 3, 10, 4, tzinfo=UTC)


@dataclass(frozen=True)
class Source:
    sender: str
    source_kind: str
    sp_code: str | None
    message_count: int
    last_received_at: datetime = T


def seed_subscriptions() -> list[object]:
    seed = build_seed(date(2024, 3, 18))
    return [s for s in seed.subscriptions if s.msisdn == SPAM_SMS_CUSTOMER.msisdn]


SEED_SOURCES = [
    Source("1066901808", "sp", HOROSCOPE_SP, 6),
    Source("10658801116", "web", WEATHER_SP, 7),
    Source("1065710086", "web", None, 2),
    *(Source(sender, "point_to_point", None, 3) for sender in SPAM_SENDERS),
]


def test_the_unordered_sp_is_ended_and_the_weather_forecast_kept() -> None:
    plan = plan_spam_response(seed_subscriptions(), SEED_SOURCES)  # type: ignore[arg-type]

    assert [s.sp_code for s in plan.unsubscribe] == [HOROSCOPE_SP]
    assert plan.unsubscribe[0].service_name == "星座运程" and plan.unsubscribe[0].monthly_fee_fen == 500
    assert [s.sp_code for s in plan.kept] == [WEATHER_SP]


def test_point_to_point_senders_are_reported_once_each() -> None:
    doubled = [*SEED_SOURCES, Source("13512340001", "point_to_point", None, 1)]
    plan = plan_spam_response(seed_subscriptions(), doubled)  # type: ignore[arg-type]
    assert plan.report_senders == list(SPAM_SENDERS)


def test_blocking_web_sms_is_offered_and_names_the_weather_forecast() -> None:
    plan = plan_spam_response(seed_subscriptions(), SEED_SOURCES)  # type: ignore[arg-type]

    assert plan.offer_web_block
    assert plan.web_junk_senders == ["1065710086"]  # the weather SP's own sender is not junk
    assert plan.block_would_stop == ["天气预报"]
    question = plan.block_question()
    assert "天气预报" in question and "1065710086" in question


def test_no_web_junk_means_no_block_question() -> None:
    sources = [s for s in SEED_SOURCES if s.sender != "1065710086"]
    plan = plan_spam_response(seed_subscriptions(), sources)  # type: ignore[arg-type]
    assert not plan.offer_web_block


def test_ended_subscriptions_are_neither_ended_again_nor_kept() -> None:
    @dataclass(frozen=True)
    class Sub:
        sp_code: str
        service_name: str
        sp_name: str
        monthly_fee_fen: int
        customer_confirmed: bool
        delivery_source: str
        status: str

    subs = [Sub("901808-XZYC", "星座运程", "星运科技", 500, False, "sp", "unsubscribed")]
    plan = plan_spam_response(subs, [])
    assert plan.unsubscribe == [] and plan.kept == [] and plan.report_senders == []


def test_junk_from_an_unordered_web_sp_counts_as_web_junk() -> None:
    sources = [Source("10650001111", "web", HOROSCOPE_SP, 4)]
    plan = plan_spam_response(seed_subscriptions(), sources)  # type: ignore[arg-type]
    assert plan.web_junk_senders == ["10650001111"]


def test_personal_numbers_are_masked_in_the_question() -> None:
    sources = [Source("13512340001", "web", None, 1)]
    plan = plan_spam_response(seed_subscriptions(), sources)  # type: ignore[arg-type]
    assert "135****0001" in plan.block_question() and "13512340001" not in plan.block_question()
