"""Run starter.py the way a user or a script does: a fresh interpreter, its exit status and its output."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STARTER = REPO / "starter.py"

# Variables of the developer's shell that would point a test's starter at someone else's services.
_PROJECT_VARIABLES = (
    "COMPLAINTS_DATA_DIR", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "COMPLAINTS_TASK_QUEUE", "DATABASE_URL",
    "PARTNER_URL", "TEMPORAL_PORT", "TEMPORAL_UI_PORT", "PARTNER_PORT", "APPROVAL_LIMIT_FEN", "MSISDN_TOKEN_KEY",
    "SLA_WARN_PERCENT", "REOPEN_WINDOW_DAYS", "LOG_FORMAT", "LOG_LEVEL",
)


@dataclass(frozen=True)
class Finished:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (f"starter.py {' '.join(self.argv)} -> exit {self.returncode} after {self.seconds:.1f}s\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


def starter_env(**variables: str) -> dict[str, str]:
    """This process's environment without the project's variables, plus `variables`."""
    env = {name: value for name, value in os.environ.items() if name not in _PROJECT_VARIABLES}
    env.update(variables)
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def run_starter(
    argv: list[str], env: dict[str, str], timeout: float = 120.0, cwd: Path = REPO
) -> Finished:
    """Run `python starter.py ARGV` in `cwd` and wait for it (killed after `timeout` seconds)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(STARTER), *argv, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return Finished(
        tuple(argv), process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"),
        loop.time() - started,
    )
