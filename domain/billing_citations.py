"""Citing billing records as evidence: each citable record's id and the content its hash covers."""

from __future__ import annotations

from typing import Any

from domain.billing_records import BalanceChange, CallRecord, Customer, DailyCharge, MonthlyBill, SpSubscription
from domain.citations import Citation, CitationRole, cite

# Each citable record has an id the billing system can look it up by, and a content: the JSON the
# billing system gives for it, limited to what never changes once written (a subscription's order,
# not its status; a sale's channel and date, not the plan the number is on today).


def sale_record(customer: Customer) -> dict[str, Any]:
    """The sale of a number: who sold it, through which channel, when."""
    return {
        "msisdn": customer.msisdn,
        "sales_channel": customer.sales_channel,
        "agent_code": customer.agent_code,
        "opened_at": customer.opened_at.isoformat(),
    }


def sp_order_record(msisdn: str, subscription: SpSubscription) -> dict[str, Any]:
    """The order behind an SP subscription (or its absence): what, from whom, how it was ordered."""
    return {
        "msisdn": msisdn,
        **subscription.model_dump(
            mode="json",
            include={
                "sp_code",
                "service_name",
                "sp_name",
                "monthly_fee_fen",
                "ordered_via",
                "customer_confirmed",
                "delivery_source",
                "subscribed_at",
            },
        ),
    }


def balance_change_record(msisdn: str, change: BalanceChange) -> dict[str, Any]:
    """The balance change as a cited record: the number it belongs to and the change's own fields."""
    return {"msisdn": msisdn, **change.model_dump(mode="json")}


def cite_bill(bill: MonthlyBill, role: CitationRole = "evidence") -> Citation:
    """Cite a monthly bill by number and period start."""
    return cite("bill_line", f"{bill.msisdn}/{bill.period_start.isoformat()}", bill.model_dump(mode="json"), role)


def cite_call(call: CallRecord, role: CitationRole = "evidence") -> Citation:
    """Cite a call record by its id."""
    return cite("cdr", str(call.id), call.model_dump(mode="json"), role)


def cite_daily_charge(row: DailyCharge, role: CitationRole = "evidence") -> Citation:
    """Cite one channel's charge for one day of the number."""
    return cite("daily_charge", f"{row.msisdn}/{row.channel}/{row.day.isoformat()}", row.model_dump(mode="json"), role)


def cite_sale(customer: Customer, role: CitationRole = "evidence") -> Citation:
    """Cite the sale of the number (who sold it, when), from the customer record."""
    record = sale_record(customer)
    return cite("sale", f"{customer.msisdn}/{record['opened_at']}", record, role)


def cite_balance_change(msisdn: str, change: BalanceChange, role: CitationRole = "evidence") -> Citation:
    """Cite one balance change of the number by its time and kind."""
    record_id = f"{msisdn}/{change.at.isoformat()}/{change.kind}"
    return cite("balance_change", record_id, balance_change_record(msisdn, change), role)


def cite_sp_order(msisdn: str, subscription: SpSubscription, role: CitationRole = "evidence") -> Citation:
    """Cite the number's order of a value-added service (SP) subscription."""
    return cite("sp_order", f"{msisdn}/{subscription.sp_code}", sp_order_record(msisdn, subscription), role)

