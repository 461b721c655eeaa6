"""Record the Temporal histories of finished cases, one per category and branch, for the replay test.

    python -m tests.replay.record            # every recording, into tests/replay/histories/
    python -m tests.replay.record --list     # their names
    python -m tests.replay.record NAME...    # only these (e.g. after changing one playbook)

Re-record after a DELIBERATE change to workflow code (and keep the old files if cases recorded
with the old code may still be running: then the change needs `workflow.patched()`).

It runs everything itself: the Temporal dev server (in memory) and, for the recordings whose
timers must run out (SLA deadlines, the month-long validity follow-up), the time-skipping test
server; a worker in this process; the partner sandbox; and a throwaway database on the PostgreSQL
of TEST_DATABASE_URL (default the machine's 127.0.0.1:5432), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.partner_carriers import HttpPartnerCarriers
from cli.demo import StoryLogins, drive
from client.api import ClientOptions, ComplaintClient
from domain.actors import Actor, ActorChannel, Role
from domain.cases import Category, Status
from domain.clock import local_day
from domain.intake import ComplaintIntake
from domain.regulatory import months_before
from domain.state import ComplaintState
from runtime.binaries import temporal_cli_path, temporal_test_server_path
from runtime.logging import configure_logging
from sandboxes.boss_seed import seed_boss
from sandboxes.partner_carrier import start_partner_sandbox
from sandboxes.reset import reset_sandboxes
from store.db import connect_pool
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER
from stories.story import Story
from stories.validity_shortened import VALIDITY_CUSTOMER
from tests.helpers import set_partner_faults
from tests.identity import TEST_TRUSTED_KEYS, FilingAsIntake, signed
from tests.replay.keys import REPLAY_DATA_CONVERTER
from worker import Dependencies, build_worker
from workflows import search_attributes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HISTORIES = Path(__file__).resolve().parent / "histories"
CLOSE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/test"
TOKEN_KEY = "replay-recording-token-key-0123"
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
MANAGER = Actor(id="store-manager-wang", role=Role.STORE_MANAGER, channel=ActorChannel.STORE)
LOGINS = StoryLogins(signed)  # the people act with tokens of the tests' issuer, which the recorder's worker trusts


@dataclass
class Recorder:
    """What a recording needs: the test server, a client, the sandboxes; and where histories go."""

    env: WorkflowEnvironment
    client: ComplaintClient
    pool: asyncpg.Pool
    partner_url: str
    out: Path

    async def reset(self, **faults: object) -> None:
        await reset_sandboxes(self.pool, self.partner_url)
        if faults:
            await set_partner_faults(self.partner_url, **faults)

    async def partner(self, method: str, path: str, body: dict[str, object] | None = None) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, f"{self.partner_url}{path}", json=body) as response,
        ):
            response.raise_for_status()

    async def save(
        self, name: str, workflow_id: str, run_id: str | None = None, *, skip: timedelta | None = None
    ) -> Path:
        """Write the workflow run's full history as JSON, once the run has closed.

        `skip`: on the time-skipping server, move the clock this far first (a handle from
        get_workflow_handle() does not skip time while it waits for the result).
        """
        if skip is not None:
            await self.skip(skip)
        handle = self.env.client.get_workflow_handle(workflow_id, run_id=run_id)
        for _ in range(300):
            history = await handle.fetch_history()
            if history.events[-1].event_type in CLOSE_EVENTS:
                break
            await asyncio.sleep(0.1)
        else:
            raise TimeoutError(
                f"{workflow_id} did not close; its history ends with {history.events[-1].event_type}"
            )
        closed = history.events[-1].event_type
        if closed != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            # A history of a case that failed would teach the replay test nothing worth keeping.
            raise RuntimeError(f"{workflow_id} ended {EventType.Name(closed)}, not completed: not recorded")
        path = self.out / f"{name}.json"
        path.write_text(history.to_json() + "\n", encoding="utf-8")
        print(f"recorded {path.relative_to(PROJECT_ROOT)} ({len(history.events)} events)")
        return path

    async def skip(self, duration: timedelta) -> None:
        """Move the time-skipping server's clock by `duration`.

        A finished case (its archiver child) leaves the test server's time skipping locked once,
        and a locked clock never moves: release one lock and try again when the sleep hangs.
        """
        assert self.env.supports_time_skipping
        for _ in range(10):
            try:
                await asyncio.wait_for(self.env.sleep(duration), 10)
                return
            except (TimeoutError, RPCError):
                with contextlib.suppress(RPCError):
                    await self.env.client.test_service.unlock_time_skipping(UnlockTimeSkippingRequest())
        raise TimeoutError(f"the test server's clock would not move by {duration}")

    async def wait_for(
        self, complaint_id: str, condition: Callable[[ComplaintState], bool], what: str
    ) -> None:
        for _ in range(600):
            view = await self.client.view(complaint_id)
            if condition(view.state):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{complaint_id}: {what}")


def _renamed(story: Story, suffix: str) -> Story:
    intake = story.intake.model_copy(update={"complaint_id": f"REPLAY-{uuid.uuid4().hex[:8]}-{suffix}"})
    return Story(story.title, intake, dict(story.answers), dict(story.approvals))


def _forwarding(suffix: str, **overrides: object) -> ComplaintIntake:
    data: dict[str, object] = {
        "complaint_id": f"REPLAY-{uuid.uuid4().hex[:8]}-{suffix}",
        "category": Category.FORWARDING_CANCEL,
        "msisdn": FORWARDING_CUSTOMER.msisdn,
        "customer_name": FORWARDING_CUSTOMER.name,
        "description": "改号通知后联通手机无法接听电话, 要求半小时内解决",
        "id_number": FORWARDING_CUSTOMER.id_number,
        "partner_msisdn": FORWARDING_CUSTOMER.partner_msisdn,
        "filed_by": {"id": "agent-li", "role": "agent", "channel": "store"},
    }
    data.update(overrides)
    return ComplaintIntake.model_validate(data)


# --- the recordings ------------------------------------------------------------------------------

Recording = Callable[[Recorder], Awaitable[None]]
RECORDINGS: dict[str, Recording] = {}
# Recordings that need time to pass (SLA deadlines, month-long timers): made on the time-skipping
# test server. The others run on the dev server, where the archiver works too (the test server
# cannot describe workflows with datetime search attributes).
FOLLOW_UP_SKIP = timedelta(days=45)  # past the validity follow-up's timer (the validity runs out in 30 days)
SKIPS_TIME = ("forwarding_cancel--sla", "validity_follow_up--", "validity_shortened--story")


def recording(name: str) -> Callable[[Recording], Recording]:
    def register(function: Recording) -> Recording:
        RECORDINGS[name] = function
        return function

    return register


def _story(category: Category, index: int = 0) -> Story:
    from stories import seed_stories

    stories = [story for story in seed_stories(datetime.now(UTC)) if story.intake.category is category]
    return stories[index]


def _register_stories() -> None:
    """Every demo story as told, one recording each (named by the story's own id suffix)."""
    from stories import seed_stories

    for story in seed_stories(datetime.now(UTC)):
        suffix = story.intake.complaint_id.rsplit("-", 1)[-1]
        category = story.intake.category

        async def record(recorder: Recorder, story: Story = story, suffix: str = suffix) -> None:
            await recorder.reset()
            told = _renamed(story, suffix)
            result = await drive(recorder.client, told, LOGINS, timeout=120)
            await recorder.save(f"{told.intake.category.value}--story-{suffix}", told.intake.complaint_id)
            if result.view.state.follow_ups:
                await recorder.save(
                    f"validity_follow_up--story-{suffix}",
                    f"validity-follow-up-{told.intake.complaint_id}",
                    skip=FOLLOW_UP_SKIP,
                )

        RECORDINGS[f"{category.value}--story-{suffix}"] = record


async def _run_id(recorder: Recorder, workflow_id: str) -> str:
    """The latest run's id (not via describe(): the test server's datetime search attributes trip it)."""
    history = await recorder.env.client.get_workflow_handle(workflow_id).fetch_history()
    return history.events[0].workflow_execution_started_event_attributes.original_execution_run_id


@recording("forwarding_cancel--identity-rejected")
async def _identity_rejected(recorder: Recorder) -> None:
    await recorder.reset()
    intake = _forwarding("idrejected", id_number=STRANGER_ID_NUMBER)
    await drive(recorder.client, Story("wrong ID number", intake, {"confirm-resolution": "no"}), LOGINS)
    await recorder.save("forwarding_cancel--identity-rejected", intake.complaint_id)


@recording("billing_spike--rejected-at-intake")
async def _rejected_at_intake(recorder: Recorder) -> None:
    """A billing dispute about charges 6 months old: filed and rejected at opening (MIIT's 5 months), no playbook."""
    await recorder.reset()
    filed_on = local_day(datetime.now(UTC))
    intake = ComplaintIntake.model_validate({
        "complaint_id": f"REPLAY-{uuid.uuid4().hex[:8]}-rejected",
        "category": Category.BILLING_SPIKE,
        "msisdn": BILLING_SPIKE_CUSTOMER.msisdn,
        "customer_name": BILLING_SPIKE_CUSTOMER.name,
        "description": "话费比平时高四倍",
        "disputed_since": months_before(filed_on, 6),
        "filed_by": {"id": "agent-li", "role": "agent", "channel": "store"},
    })
    await recorder.client.file(intake, signed(intake.filed_by))
    await recorder.save("billing_spike--rejected-at-intake", intake.complaint_id)


@recording("forwarding_cancel--partner-refused")
async def _partner_refused(recorder: Recorder) -> None:
    await recorder.reset()
    await recorder.partner(
        "PUT",
        f"/carriers/china_unicom/forwardings/{FORWARDING_CUSTOMER.partner_msisdn}",
        {
            "holder_name": FORWARDING_CUSTOMER.name,
            "id_number": STRANGER_ID_NUMBER,
            "forward_to": FORWARDING_CUSTOMER.msisdn,
        },
    )
    intake = _forwarding("refused")
    await drive(recorder.client, Story("the partner refuses", intake, {"confirm-resolution": "yes"}), LOGINS)
    await recorder.save("forwarding_cancel--partner-refused", intake.complaint_id)


@recording("forwarding_cancel--sla-escalated")
async def _sla_escalated(recorder: Recorder) -> None:
    """The partner is down past the 30-minute deadline: warned, breached, escalated; then it recovers."""
    await recorder.reset(error_rate=1.0)
    intake = _forwarding("sla")
    await recorder.client.file(intake)
    await recorder.skip(timedelta(minutes=31))
    await recorder.reset()
    await recorder.skip(timedelta(minutes=1))  # the next retry of the cancel, in skipped time
    await recorder.wait_for(intake.complaint_id, lambda s: s.pending_question is not None, "never asked")
    await recorder.client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await recorder.save("forwarding_cancel--sla-escalated", intake.complaint_id)


@recording("forwarding_cancel--reopened")
async def _reopened(recorder: Recorder) -> None:
    """Closed as not solved, reopened by the store manager, resolved by hand, confirmed."""
    await recorder.reset()
    intake = _forwarding("reopened")
    first = await drive(recorder.client, Story("not solved", intake, {"confirm-resolution": "no"}), LOGINS)
    assert first.view.state.status is Status.CLOSED
    await recorder.env.client.get_workflow_handle(intake.complaint_id).result()  # the run has ended
    first_run = await _run_id(recorder, intake.complaint_id)
    second = await recorder.client.reopen(intake.complaint_id, "calls still do not arrive", signed(MANAGER))
    await recorder.wait_for(intake.complaint_id, lambda s: s.reopened == 1 and s.is_open, "never reopened")
    await recorder.client.resolve(
        intake.complaint_id,
        "forwarding_cancelled_by_hand",
        "10010 cancelled it on the phone with us",
        signed(MANAGER),
    )
    await recorder.wait_for(
        intake.complaint_id, lambda s: s.pending_question is not None, "never asked again"
    )
    await recorder.client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await recorder.save("forwarding_cancel--reopened-first-run", intake.complaint_id, first_run)
    await recorder.save("forwarding_cancel--reopened-second-run", intake.complaint_id, second.result_run_id)


@recording("validity_shortened--restore-now")
async def _validity_restore(recorder: Recorder) -> None:
    await recorder.reset()
    story = _renamed(_story(Category.VALIDITY_SHORTENED), "restore")
    story.answers["validity-remedy"] = "restore-now"
    await drive(recorder.client, story, LOGINS)
    await recorder.save("validity_shortened--restore-now", story.intake.complaint_id)


@recording("validity_shortened--withdrawn")
async def _validity_withdrawn(recorder: Recorder) -> None:
    await recorder.reset()
    story = _renamed(_story(Category.VALIDITY_SHORTENED), "withdrawn")
    complaint_id = story.intake.complaint_id
    await recorder.client.file(story.intake)
    await recorder.wait_for(complaint_id, lambda s: s.pending_question is not None, "never asked")
    await recorder.client.withdraw(complaint_id, "the customer will recharge instead", signed(CUSTOMER))
    await recorder.save("validity_shortened--withdrawn", complaint_id)


@recording("validity_follow_up--extended")
async def _validity_extended(recorder: Recorder) -> None:
    """The deferred remedy kept: the number is suspended when the validity runs out, so it is extended."""
    await recorder.reset()
    story = _renamed(_story(Category.VALIDITY_SHORTENED), "suspended")
    story.answers["validity-remedy"] = "extend-if-suspended"
    await drive(recorder.client, story, LOGINS)
    await recorder.pool.execute(
        "UPDATE boss.customers SET status = 'suspended' WHERE msisdn = $1", VALIDITY_CUSTOMER.msisdn
    )
    await recorder.save(
        "validity_follow_up--extended", f"validity-follow-up-{story.intake.complaint_id}", skip=FOLLOW_UP_SKIP
    )


# A demo story told with other answers: (category, id suffix, answers, approvals) by recording name.
_VARIANTS: dict[str, tuple[Category, str, dict[str, str], dict[str, tuple[bool, str]]]] = {
    "arrears_dispute--waiver-approved": (Category.ARREARS_DISPUTE, "waived", {"settle-arrears": "dispute"}, {}),
    "arrears_dispute--waiver-refused": (
        Category.ARREARS_DISPUTE,
        "refused",
        {"settle-arrears": "dispute"},
        {"arrears_waiver": (False, "the last long call was made before the cancellation")},
    ),
    "spam_sms--keep-web-sms": (Category.SPAM_SMS, "keep", {"block-web-sms": "keep"}, {}),
    "billing_spike--no-comparison": (Category.BILLING_SPIKE, "nocompare", {"compare-with-other-party": "no"}, {}),
}


def _register_variants() -> None:
    for name, (category, suffix, answers, approvals) in _VARIANTS.items():

        async def record(
            recorder: Recorder,
            name: str = name,
            category: Category = category,
            suffix: str = suffix,
            answers: dict[str, str] = answers,
            approvals: dict[str, tuple[bool, str]] = approvals,
        ) -> None:
            await recorder.reset()
            story = _renamed(_story(category), suffix)
            story.answers.update(answers)
            story.approvals.update(approvals)
            await drive(recorder.client, story, LOGINS)
            await recorder.save(name, story.intake.complaint_id)

        RECORDINGS[name] = record


_register_variants()


_register_stories()


# --- the environment -----------------------------------------------------------------------------


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{database}" + (f"?{query}" if query else "")


@contextlib.asynccontextmanager
async def _database() -> AsyncIterator[asyncpg.Pool]:
    """A throwaway database (migrated, BOSS seeded) on the test PostgreSQL server, dropped after."""
    server_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER_URL)
    name = f"complaints_replay_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        pool = await connect_pool(_with_database(server_url, name), max_size=10)
        try:
            async with pool.acquire() as conn:
                await seed_boss(conn, datetime.now(UTC).date())
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _server(time_skipping: bool) -> WorkflowEnvironment:
    if time_skipping:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=REPLAY_DATA_CONVERTER, test_server_existing_path=temporal_test_server_path()
        )
        # The test server cannot list search attributes, but it does register them.
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace="default",
                search_attributes={
                    key.name: key.indexed_value_type  # type: ignore[misc]
                    for key in search_attributes.ALL
                },
            )
        )
        return env
    return await WorkflowEnvironment.start_local(
        data_converter=REPLAY_DATA_CONVERTER,
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
    )


@contextlib.asynccontextmanager
async def recording_environment(
    pool: asyncpg.Pool, out: Path, *, time_skipping: bool
) -> AsyncIterator[Recorder]:
    """A Temporal server (the dev server, or the time-skipping test server for recordings whose
    timers run for minutes or months), a worker, and the partner sandbox."""
    sandbox = await start_partner_sandbox(port=0)
    env = await _server(time_skipping)
    try:
        async with HttpPartnerCarriers(sandbox.url) as partners:
            options = ClientOptions(task_queue=f"replay-{uuid.uuid4().hex[:8]}")
            async with build_worker(
                env.client,
                Dependencies(pool=pool, partners=partners),
                options.task_queue,
                trusted_keys=TEST_TRUSTED_KEYS,
            ):
                client = FilingAsIntake(env.client, options=options, token_key=TOKEN_KEY)
                yield Recorder(env=env, client=client, pool=pool, partner_url=sandbox.url, out=out)
    finally:
        await env.shutdown()
        await sandbox.stop()


async def record(names: list[str], out: Path = HISTORIES) -> None:
    unknown = sorted(set(names) - RECORDINGS.keys())
    if unknown:
        raise SystemExit(f"no recording named {', '.join(unknown)}; see --list")
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (a one-off recording script)
    chosen = sorted(names or RECORDINGS)
    async with _database() as pool:
        on_dev_server = [name for name in chosen if not name.startswith(SKIPS_TIME)]
        if on_dev_server:
            async with recording_environment(pool, out, time_skipping=False) as recorder:
                for name in on_dev_server:
                    await RECORDINGS[name](recorder)
        for name in chosen:
            if name.startswith(SKIPS_TIME):
                # A test server each: its clock (and its time-skipping locks) start afresh.
                async with recording_environment(pool, out, time_skipping=True) as recorder:
                    await RECORDINGS[name](recorder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.replay.record",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", help="recordings to make (default: all)")
    parser.add_argument("--list", action="store_true", help="print the recordings' names and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(sorted(RECORDINGS)))
        return 0
    configure_logging("console", "WARNING")
    asyncio.run(record(args.names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
