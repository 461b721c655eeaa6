"""`starter.py demo`, as the README's first command runs it: a fresh data folder, then the same folder again."""

from __future__ import annotations

import re
from pathlib import Path

from runtime.embedded import free_port
from stories import seed_stories
from tests.cli.starter_process import Finished, run_starter, starter_env

# A summary row: case id, category, outcome, how it closed, money moved, seconds.
_SUMMARY_ROW = re.compile(r"^  (DEMO-\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+¥[\d,]+\.\d\d\s+[\d.]+s$")


def closed_stories(finished: Finished) -> dict[str, str]:
    """Case id -> how it closed, read from the summary table the demo prints last."""
    _, found, summary = finished.stdout.partition("\nSummary\n")
    assert found, f"no summary table\n{finished}"
    return {m[1]: m[4] for line in summary.splitlines() if (m := _SUMMARY_ROW.match(line))}


def check_every_story_told(finished: Finished) -> None:
    stories = seed_stories()
    assert finished.returncode == 0, str(finished)
    assert "FAILED" not in finished.stdout, str(finished)
    for story in stories:
        assert f"== {story.title} ==" in finished.stdout, f"no timeline of {story.title!r}\n{finished}"
    closed = closed_stories(finished)
    assert len(closed) == len(stories), str(finished)
    # Every case closed, and as the story's people answered: each confirmed the resolution.
    assert set(closed.values()) == {"confirmed"}, closed
    assert "Closed (confirmed)" in finished.stdout
    assert "Traceback" not in finished.stderr, str(finished)


async def test_the_demo_runs_on_a_fresh_data_folder_and_again_on_the_same(tmp_path: Path) -> None:
    # Exactly as the README runs it (embedded Temporal, PostgreSQL and partner sandbox in the data
    # folder), only with a data folder and ports of the test's own.
    env = starter_env(
        COMPLAINTS_DATA_DIR=str(tmp_path / "data"),
        TEMPORAL_PORT=str(free_port()),
        TEMPORAL_UI_PORT=str(free_port()),
        PARTNER_PORT=str(free_port()),
    )
    first = await run_starter(["demo"], env, timeout=240)
    check_every_story_told(first)
    assert (tmp_path / "data" / "temporal.db").exists() and (tmp_path / "data" / "pg").is_dir()

    second = await run_starter(["demo"], env, timeout=240)
    check_every_story_told(second)
    # Told again under new case ids: the earlier cases stay as they were.
    assert not set(closed_stories(first)) & set(closed_stories(second))
