"""`./run lint` gives the same answer on every fresh clone, and CI runs it before the tests.

A linter given as a range installs whatever is newest that day, and a new mypy release finds new
errors in unchanged code: so both are pinned to one exact version.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_ruff_and_mypy_are_pinned_to_one_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    requirements = project["project"]["optional-dependencies"]["test"]
    for tool in ("ruff", "mypy"):
        pins = [r for r in requirements if re.match(rf"{tool}\s*[=<>!~]", r)]
        assert len(pins) == 1 and re.fullmatch(rf"{tool}==[0-9][0-9.]*", pins[0]), pins


def test_ci_runs_lint_before_the_tests() -> None:
    commands = [
        line.strip()
        for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip().startswith(("./run", "exec ./run"))
    ]
    assert commands == ["./run lint", "exec ./run tests"]
    assert "set -euo pipefail" in (PROJECT_ROOT / ".ci" / "run").read_text()
