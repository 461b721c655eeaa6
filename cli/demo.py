"""The demo: file the seed's stories (stories/<category>.py) and drive each to its end as its people would.

Each story says how its people answer; a small driver watches the case (a query every few hundred
milliseconds) and answers questions and approvals as they come up, until the case is closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auth.embedded import EmbeddedIssuer
from cli.timeline import render_state, render_timeline
from client.api import ComplaintClient
from domain.actors import Actor
from domain.cases import Status
from domain.money import format_yuan
from stories.people import CUSTOMER, SUPERVISOR
from stories.story import Story
from workflows.messages import CaseView

POLL_SECONDS = 0.2


class StoryLogins:
    """The stories' people log in like anyone else: a token each, from `token_for` (one login per person)."""

    def __init__(self, token_for: Callable[[Actor], str]) -> None:
        self._token_for = token_for
        self._tokens: dict[str, str] = {}

    @classmethod
    def from_issuer(cls, issuer: EmbeddedIssuer) -> StoryLogins:
        """Logins from the embedded issuer's directory, where the demo's people are (auth.embedded)."""

        def login(actor: Actor) -> str:
            # Long enough for the slowest story.
            token, _dev_warning = issuer.login(actor.id, datetime.now(UTC), ttl=timedelta(hours=2))
            return token

        return cls(login)

    def token(self, actor: Actor) -> str:
        """A token for `actor`, signed once and reused for the rest of the demo."""
        if actor.id not in self._tokens:
            self._tokens[actor.id] = self._token_for(actor)
        return self._tokens[actor.id]

    def client_for(self, client: ComplaintClient, actor: Actor) -> ComplaintClient:
        """The client acting as `actor`, with the actor's token and channel."""
        return client.acting_as(self.token(actor), channel=actor.channel)


@dataclass(frozen=True)
class StoryResult:
    story: Story
    view: CaseView
    seconds: float


async def drive(
    client: ComplaintClient, story: Story, logins: StoryLogins, timeout: float = 120.0
) -> StoryResult:
    """File the story's complaint and answer for its people until the case closes, each with their login."""
    started = time.monotonic()
    complaint_id = story.intake.complaint_id
    await logins.client_for(client, story.intake.filed_by).file(story.intake)
    customer = logins.client_for(client, CUSTOMER)
    supervisor = logins.client_for(client, SUPERVISOR)
    while True:
        view = await client.view(complaint_id)
        state = view.state
        if state.status is Status.CLOSED:
            return StoryResult(story, view, time.monotonic() - started)
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{complaint_id} did not close within {timeout:.0f}s (status {state.status.value})")
        question = state.pending_question
        if question is not None:
            answer = story.answer(question.question_id, question.options)
            await customer.answer(complaint_id, question.question_id, answer)
            continue
        for adjustment in state.adjustments.values():
            if adjustment.needs_approval and adjustment.status == "proposed":
                approve, reason = story.decision(adjustment.kind)
                await supervisor.decide(complaint_id, adjustment.adjustment_id, approve=approve, reason=reason)
        await asyncio.sleep(POLL_SECONDS)


def render_results(results: list[StoryResult]) -> str:
    """The demo's stories and what each ended as, as text for the terminal."""
    out: list[str] = []
    for result in results:
        out.append("")
        out.append(f"== {result.story.title} ==")
        out.append(render_state(result.view.state))
        out.append(render_timeline(result.view.timeline))
    out.append("")
    out.append("Summary")
    header = f"  {'case':<36} {'category':<19} {'outcome':<28} {'closed as':<14} {'money moved':>12} {'time':>7}"
    out.append(header)
    out.append("  " + "-" * (len(header) - 2))
    for result in results:
        state = result.view.state
        out.append(
            f"  {state.complaint_id:<36} {state.category.value:<19} {(state.outcome or '-'):<28} "
            f"{(state.close_reason or '-'):<14} {format_yuan(state.money_moved_fen):>12} {result.seconds:>6.1f}s"
        )
    return "\n".join(out)
