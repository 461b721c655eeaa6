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
