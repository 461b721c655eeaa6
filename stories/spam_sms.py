"""垃圾短信: the customer keeps getting junk (prizes, "your number was stolen") and wants it to stop.

Three kinds: point-to-point spam from three numbers (reported to the spam centre), a horoscope SP
service he never ordered (ended), and web SMS (blocked, with his consent). The weather forecast he did
order stays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from sandboxes.boss_rows import BossRows, SmsRow, SubscriptionRow, customer_row, static_bills
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.SPAM_SMS
ORDER = 5

SPAM_SMS_CUSTOMER = StoryCustomer("李女士", "330105198708220667", "13857101234")
CUSTOMER = SPAM_SMS_CUSTOMER

SPAM_CENTRE = "10086999"
WEATHER_SP = "801116-TQYB"
HOROSCOPE_SP = "901808-XZYC"
SPAM_SENDERS = {
    "13512340001": "【中奖通知】恭喜您的号码在周年庆抽奖中荣获二等奖，奖金58000元，请速致电领取。",
    "15912340002": "您的手机号码已被他人盗用，涉嫌违法，请立即回电配合调查。",
    "18812340003": "尊敬的用户：您已被抽中为幸运客户，点击链接即可领取手机一部。",
}


def _received(msisdn: str, anchor: date) -> list[SmsRow]:
    """Her inbox: the spam, the horoscope's weekly messages, the forecast's daily ones, and web SMS."""

    def day(offset: int) -> date:
        return anchor + timedelta(days=offset)

    sms: list[SmsRow] = []
    for index, (sender, text) in enumerate(SPAM_SENDERS.items()):
        for n in range(3 - index // 2):
            received = at_local(day(-20 + 6 * n + index), 12 + index, 7 * n)
            sms.append(SmsRow(msisdn, sender, "point_to_point", None, received, text))
    for week in range(6):
        sms.append(
            SmsRow(
                msisdn,
                "1066901808",
                "sp",
                HOROSCOPE_SP,
                at_local(day(-42 + 7 * week), 9, 30),
                "【星座运程】本周运势：财运上扬，贵人相助。包月5元，回复TD退订。",
            )
        )
    for back in range(7, 0, -1):
        sms.append(
            SmsRow(
                msisdn,
                "10658801116",
                "web",
                WEATHER_SP,
                at_local(day(-back), 7, 0),
                "【天气预报】杭州今天多云转晴，12~20℃，东北风3级。",
            )
        )
    for n in range(2):
        sms.append(
            SmsRow(
                msisdn,
                "1065710086",
                "web",
                None,
                at_local(day(-9 + 4 * n), 22, 41),
                "（网站短信）你好，我在网上给你留言了，速回。",
            )
        )
    return sms


def boss_rows(anchor: date) -> BossRows:
    """Her account, the two SP subscriptions (one ordered, one not) and what she received."""
    m = SPAM_SMS_CUSTOMER.msisdn
    subscriptions = (
        SubscriptionRow(
            m, WEATHER_SP, "天气预报", "浙江气象信息服务", 300, "web", True, "web",
            at_local(anchor - timedelta(days=200), 20, 14), "active", None,
        ),
        SubscriptionRow(
            m, HOROSCOPE_SP, "星座运程", "星运科技", 500, "none", False, "sp",
            at_local(anchor - timedelta(days=45), 3, 12), "active", None,
        ),
    )
    customer = customer_row(
        SPAM_SMS_CUSTOMER,
        plan="SZX-18",
        brand="神州行",
        opened_at=at_local(anchor - timedelta(days=365), 18, 2),
        balance_fen=4560,
        validity_until=anchor + timedelta(days=200),
    )
    return BossRows(
        customers=(customer,),
        bills=tuple(static_bills(m, anchor, (3350, 3420, 3280, 1900))),
        subscriptions=subscriptions,
        sms=tuple(_received(m, anchor)),
    )


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: end the SP never ordered, report the senders, block web SMS with consent."""
    # One story: the sandbox seeds one spam customer, and two cases on one number at once would race
    # to end the same SP service. The refused-consent branch is covered by the workflow tests.
    intake = filed_at_store(
        "spam",
        now,
        CATEGORY,
        SPAM_SMS_CUSTOMER,
        "经常收到乱七八糟的短信, 不是说中奖了, 就是说号码被盗用了; 生活被打扰, 要求赔偿",
    )
    return [
        Story(
            "垃圾短信 / spam_sms: end the SP never ordered, report the senders, block web SMS with consent",
            intake,
            answers={"block-web-sms": "block", "confirm-resolution": "yes"},
        )
    ]
