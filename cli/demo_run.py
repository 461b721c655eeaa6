"""`starter.py demo` end to end: runtime, worker, the stories, the timelines."""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from temporalio.client import Client, WorkflowFailureError

from audit.archive_store import PostgresArchiveStore
from auth.embedded import EmbeddedIssuer
from cli.connect import BadInput, client_options
from cli.demo import StoryLogins, StoryResult, drive, render_results
from client.api import ComplaintClient, connect_temporal
from runtime.embedded import EmbeddedRuntime
from runtime.policy import PolicySource
from runtime.settings import ConfigError, Settings
from sandboxes.reset import reset_sandboxes
from stories import seed_stories
from worker import build_worker, dependencies, start_archiver

log = structlog.get_logger("demo")


async def wait_for_archives(
    temporal: Client, pool: asyncpg.Pool, complaint_ids: list[str], timeout: float = 60.0
) -> None:
    """Let the task queue's archiver copy each closed case's Temporal history before this worker goes away.

    Not needed for correctness (a run left in the archive queue is archived by the next worker), but
    the demo should leave a data folder in which `history --raw` works for every story. The case's
    closing events queued its run for the archiver; this waits for the run to end and for its row in
    the archive. A run that failed queued nothing (the reconciler gives it its end), so there is
    nothing to wait for.
    """
    archive = PostgresArchiveStore(pool)

    async def archived(complaint_id: str) -> None:
        run_id = (await temporal.get_workflow_handle(complaint_id).describe()).run_id
        try:
            await temporal.get_workflow_handle(complaint_id, run_id=run_id).result(follow_runs=False)
        except WorkflowFailureError as error:
            log.warning("case did not complete, so it has no archive", complaint_id=complaint_id, error=str(error))
            return
        # The archiver's rounds are a second apart: polling the archive table is the plain way to see it.
        for _ in range(int(timeout / 0.2) + 1):
            if run_id in await archive.archived_run_ids(complaint_id):
                return
            await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(asyncio.gather(*(archived(cid) for cid in complaint_ids)), timeout)
    except TimeoutError:
        log.warning("some archives are still queued; the next worker's archiver finishes them", timeout=timeout)


async def run_demo(settings: Settings, timeout: float) -> int:
    """Start (or attach to) the runtime, run a worker in this process, tell every story."""
    try:
        keys = settings.payload_key_ring()
    except ConfigError as bad_key:
        raise BadInput(str(bad_key)) from None
    async with EmbeddedRuntime(settings) as runtime:
        # One connection for every story's people: its identity says so; each act's actor is its token's.
        temporal = await connect_temporal(
            runtime.temporal_address, settings.temporal_namespace, keys=keys, identity="demo driver (story logins)"
        )
        issuer = EmbeddedIssuer.open(settings.data_dir)
        logins = StoryLogins.from_issuer(issuer)
        # The demo tells the seed's stories, so it seeds them, whichever database it was given.
        async with dependencies(runtime.database_url, runtime.partner_url, seed_sandbox=True) as deps:
            await reset_sandboxes(deps.pool, runtime.partner_url)
            complaints = ComplaintClient(
                temporal, options=client_options(settings), token_key=settings.msisdn_token_key
            )
            stories = seed_stories()
            log.info("filing the seed's stories", count=len(stories))
            async with build_worker(temporal, deps, settings.task_queue, policy=PolicySource(settings).current,
                                    trusted_keys=issuer.trusted_keys()):
                await start_archiver(temporal, settings.task_queue, interval_seconds=1)
                outcomes = await asyncio.gather(
                    *(drive(complaints, story, logins, timeout) for story in stories), return_exceptions=True
                )
                closed = [outcome for outcome in outcomes if isinstance(outcome, StoryResult)]
                await wait_for_archives(temporal, deps.pool, [result.view.state.complaint_id for result in closed])
        results = [outcome for outcome in outcomes if isinstance(outcome, StoryResult)]
        print(render_results(results))
        failed = [
            (story, outcome)
            for story, outcome in zip(stories, outcomes, strict=True)
            if isinstance(outcome, BaseException)
        ]
        for story, error in failed:
            print(f"FAILED {story.intake.complaint_id} ({story.title}): {type(error).__name__}: {error}")
        print()
        print(f"Data folder: {settings.data_dir.resolve()} (Temporal: temporal.db, PostgreSQL: pg/)")
        if runtime.ui_url:
            print(f"Temporal Web UI while the engine runs (`./run up`): {runtime.ui_url}")
    return 1 if failed else 0
