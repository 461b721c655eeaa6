"""The billing system's tariff plans that the stories' customers are on."""

from __future__ import annotations

from sandboxes.boss_rows import PlanRow

PLANS = (
    PlanRow(
        code="SZX-QS",
        name="神州行轻松卡",
        account_type="prepaid",
        monthly_fee_fen=0,
        included_minutes=0,
        per_minute_fen=60,
        long_distance_per_minute_fen=60,
        sms_fen=10,
        description="无月租，本地及长途通话0.60元/分钟，短信0.10元/条",
    ),
    PlanRow(
        code="SZX-18",
        name="神州行18元套餐",
        account_type="prepaid",
        monthly_fee_fen=1800,
        included_minutes=100,
        per_minute_fen=19,
        long_distance_per_minute_fen=19,
        sms_fen=10,
        description="月租18元，含本地主叫100分钟，超出部分0.19元/分钟，国内长途0.19元/分钟",
    ),
    PlanRow(
        code="SZX-58",
        name="神州行58元套餐",
        account_type="prepaid",
        monthly_fee_fen=5800,
        included_minutes=450,
        per_minute_fen=15,
        long_distance_per_minute_fen=15,
        sms_fen=10,
        description="月租58元，含国内主叫450分钟，超出部分0.15元/分钟",
    ),
    PlanRow(
        code="GOTONE-88",
        name="全球通88元套餐",
        account_type="postpaid",
        monthly_fee_fen=8800,
        included_minutes=500,
        per_minute_fen=15,
        long_distance_per_minute_fen=15,
        sms_fen=10,
        description="月租88元，含国内主叫500分钟，来电显示免费，超出部分0.15元/分钟",
    ),
)
