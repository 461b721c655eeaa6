"""The people of the demo's stories."""

from __future__ import annotations

from domain.actors import Actor, ActorChannel, Role

STORE_AGENT = Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
HOTLINE_AGENT = Actor(id="agent-chen", role=Role.AGENT, channel=ActorChannel.HOTLINE)
