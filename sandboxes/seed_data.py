"""The seed's customers and figures, one source for every sandbox and for the demo.

The store records in ../shared/seed name most numbers; where a record gives none (the forwarding
case, the spam and tariff cases), the numbers here are invented in the same style. ID numbers are
made up but carry a valid GB 11643 check digit, so the identity checks run for real.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ForwardingCustomer:
    """A customer who left China Unicom: the old Unicom number still forwards to the new one."""

    name: str
    id_number: str
    msisdn: str  # the new China Mobile number
    partner_msisdn: str  # the old China Unicom number, which holds the call forwarding
    partner_carrier: str
    number_change_notice: bool


FORWARDING_CUSTOMER = ForwardingCustomer(
    name="赵先生",
    id_number="330106198001011235",
    msisdn="13905710001",
    partner_msisdn="13067890001",
    partner_carrier="china_unicom",
    number_change_notice=True,
)

# An ID number with a valid check digit that belongs to nobody in the sandboxes.
STRANGER_ID_NUMBER = "330106197503152025"


# --- the billing system (BOSS) sandbox's customers -------------------------------------------------


@dataclass(frozen=True)
class StoryCustomer:
    """A customer of the billing-system sandbox, as registered: name, ID number, China Mobile number."""

    name: str
    id_number: str
    msisdn: str


BILLING_SPIKE_CUSTOMER = StoryCustomer("薛小姐", "33010519860412032X", "13666778765")
# The other party of the long calls: a China Mobile number too, so its own call records can be compared.
BILLING_SPIKE_COUNTERPART = StoryCustomer("钱女士", "330103198802050243", "13666771234")
ARREARS_CUSTOMER = StoryCustomer("胡先生", "330102195203080512", "13967341014")
BILL_DISCREPANCY_CUSTOMER = StoryCustomer("张小姐", "330106199007160420", "13567383861")
# Two other numbers whose three channels agree: the store tests the terminal with them.
BILL_REFERENCE_CUSTOMERS = (
    StoryCustomer("周先生", "330109198309170370", "13567380011"),
    StoryCustomer("吴女士", "330104199206280481", "13567380022"),
)
# The discrepancy playbook's other branch: here the billing system really did charge too much.
BILL_OVERCHARGE_CUSTOMER = StoryCustomer("郑先生", "330106196901300172", "13567380033")
VALIDITY_CUSTOMER = StoryCustomer("王先生", "330108197811230614", "13819408540")
SPAM_SMS_CUSTOMER = StoryCustomer("李女士", "330105198708220667", "13857101234")
TARIFF_CUSTOMER = StoryCustomer("陈先生", "33011019850314055X", "13758250617")

# The seed's figures, in fen and days, relative to the anchor date (the day the customer came in).
SPIKE_LONG_CALLS_FEN = 5820  # 58.20 yuan of long calls the day before
SPIKE_USUAL_MONTHLY_FEN = 3000  # the usual monthly bill, about 30 yuan
ARREARS_FEN = 2340  # "20-odd yuan" owed by the cancelled prepaid number
BILLING_PERIOD_DAYS_SO_FAR = 18  # the customer asked on the period's 18th day
DISCREPANCY_BILLING_FEN = 10860  # the billing system and the web: 100-odd yuan
DISCREPANCY_TERMINAL_FEN = 5230  # the self-service terminal: 50-odd yuan
DISCREPANCY_TERMINAL_DAYS = 14  # the terminal only has days 1-14 of the period
OVERCHARGE_FEN = 1200  # charged by the billing system on one day beyond what web and terminal show
OVERCHARGE_DAY = 9  # that day, counted from the period's first day as 1
BATCH_ADJUSTMENT_FEN = 1000  # the -10 yuan batch adjustment (批量调整)
BATCH_ADJUSTMENT_REASON = "充值送饮料多返充"
VALIDITY_AFTER_DAYS = 30  # validity now ends anchor + 30 days (the seed's 2008-11-26)
VALIDITY_SHORTENED_BY_DAYS = 545  # from 2010-05-25 to 2008-11-26
SPAM_CENTRE = "10086999"
TARIFF_PLAN_CODE = "SZX-58"
TARIFF_AGENT_CODE = "AG-HZ-017"
TARIFF_AGENT_NAME = "西湖区文三路代销店"
