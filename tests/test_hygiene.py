"""Size hygiene (issue #12): no module outside tests/ over 400 lines, so each stays small and named for what it does.

Walks the .py files git tracks (so a stray local file does not count) and names every one over the limit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 400


def _tracked_python_outside_tests() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--", "*.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return [ROOT / name for name in listing.split("\0") if name and not name.startswith("tests/")]


def test_no_module_outside_tests_is_over_400_lines() -> None:
    files = _tracked_python_outside_tests()
    # A walk that found nothing would pass for the wrong reason.
    assert len(files) > 50
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in files
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert not too_long, f"modules over {LIMIT} lines (split them by what they do): {too_long}"
