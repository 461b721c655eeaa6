"""The people of the seed's stories: how a customer is registered, and the staff who file and approve.

ID numbers are made up but carry a valid GB 11643 check digit, so the identity checks run for real.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.actors import Actor, ActorChannel, Role


@dataclass(frozen=True)
class StoryCustomer:
    """A customer of the billing-system sandbox, as registered: name, ID number, China Mobile number."""

    name: str
    id_number: str
    msisdn: str


@dataclass(frozen=True)
class ForwardingCustomer:
    """A customer who left China Unicom: the old Unicom number still forwards to the new one."""

    name: str
    id_number: str
    msisdn: str  # the new China Mobile number
    partner_msisdn: str  # the old China Unicom number, which holds the call forwarding
    partner_carrier: str
    number_change_notice: bool


# An ID number with a valid check digit that belongs to nobody in the sandboxes.
STRANGER_ID_NUMBER = "330106197503152025"

STORE_AGENT = Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
# Who answers the demo's questions and approvals.
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
SUPERVISOR = Actor(id="store-manager-wang", role=Role.STORE_MANAGER, channel=ActorChannel.STORE)
