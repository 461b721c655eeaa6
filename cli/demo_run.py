"""`starter.py demo` end to end: runtime, worker, the stories, the timelines."""

from __future__ import annotations

import asyncio

import structlog

from cli.connect import engine_options
from cli.demo import StoryResult, drive, render_results, reset_sandboxes
from cli.stories import seed_stories
from client.api import ComplaintClient, connect_temporal
from runtime.embedded import EmbeddedRuntime
from runtime.settings import Settings
from worker import build_worker, dependencies

log = structlog.get_logger("demo")


async def run_demo(settings: Settings, timeout: float) -> int:
    """Start (or attach to) the runtime, run a worker in this process, tell every story."""
    async with EmbeddedRuntime(settings) as runtime:
        temporal = await connect_temporal(runtime.temporal_address, settings.temporal_namespace)
        async with dependencies(runtime.database_url, runtime.partner_url) as deps:
            await reset_sandboxes(deps.pool, runtime.partner_url)
            complaints = ComplaintClient(
                temporal, options=engine_options(settings), token_key=settings.msisdn_token_key
            )
            stories = seed_stories()
            log.info("filing the seed's stories", count=len(stories))
            async with build_worker(temporal, deps, settings.task_queue):
                outcomes = await asyncio.gather(
                    *(drive(complaints, story, timeout) for story in stories), return_exceptions=True
                )
        results = [outcome for outcome in outcomes if isinstance(outcome, StoryResult)]
        print(render_results(results))
        failed = [(story, outcome) for story, outcome in zip(stories, outcomes) if isinstance(outcome, BaseException)]
        for story, error in failed:
            print(f"FAILED {story.intake.complaint_id} ({story.title}): {type(error).__name__}: {error}")
        print()
        print(f"Data folder: {settings.data_dir.resolve()} (Temporal: temporal.db, PostgreSQL: pg/)")
        if runtime.ui_url:
            print(f"Temporal Web UI while the engine runs (`python worker.py`): {runtime.ui_url}")
    return 1 if failed else 0
