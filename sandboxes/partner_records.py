"""What the partner sandbox knows at the start: the records a story (stories/<category>.py) gives it.

Pure, frozen data; sandboxes/partner_state.py turns it into the sandbox's mutable state on every reset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ForwardingRecord:
    """A number at a partner carrier that forwards its calls, and the holder the carrier checks."""

    carrier: str
    msisdn: str
    holder_name: str
    id_number: str
    forward_to: str


@dataclass(frozen=True)
class AgentSale:
    """A number an agent store sold, and what a joint verification of that sale finds."""

    plan_code: str
    tariff_explained: bool
    finding: str
    remedy: Mapping[str, Any]


@dataclass(frozen=True)
class AgentSaleRecord:
    """One sale in an agent store's books."""

    agent_code: str
    agent_name: str
    msisdn: str
    sale: AgentSale


@dataclass(frozen=True)
class PartnerRecords:
    """A story's records at the partners: forwardings at other carriers, sales at agent stores."""

    forwardings: tuple[ForwardingRecord, ...] = field(default=())
    sales: tuple[AgentSaleRecord, ...] = field(default=())
