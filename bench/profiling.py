"""Where a worker's time goes: py-spy attached to a running process, summarised by function and package.

py-spy samples from outside (it needs ptrace, which a container may refuse); with `--nonblocking`
it does not pause the target, so the run being profiled keeps its pace, and with `--gil` it keeps
only samples holding the GIL: Python CPU work, not threads waiting.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Self

from bench.common import PROJECT_ROOT

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy_path() -> str | None:
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


class PySpy:
    """`async with PySpy(pid, out)`: samples `pid` while the block runs, raw collapsed stacks to `out`."""

    def __init__(self, pid: int, output: Path, rate: int = 100) -> None:
        self.pid = pid
        self.output = output
        self.rate = rate
        self.error: str | None = None
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        binary = py_spy_path()
        if binary is None:
            self.error = "py-spy is not installed (pip install py-spy)"
            return self
        self._process = await asyncio.create_subprocess_exec(
            binary, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--format", "raw",
            "--nonblocking", "--gil", "--full-filenames", "--output", str(self.output),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        except TimeoutError:
            process.kill()
            stderr = b""
        if not self.output.exists():
            self.error = f"py-spy wrote nothing: {stderr.decode(errors='replace').strip()[-300:]}"


def _package(path: str) -> str:
    """A short name for where a frame's code lives: the project module, or the library."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0]
    if not path.startswith("/"):
        return "python internals" if path.startswith("<") else f"other ({path or '?'})"
    try:
        relative = Path(path).relative_to(PROJECT_ROOT)
    except ValueError:
        return "python stdlib" if "/lib/python" in path else "other"
    return "project: " + relative.parts[0] if len(relative.parts) > 1 else "project"


def summarise(raw: Path, top: int = 12) -> dict[str, Any]:
    """Share of samples by function (self and inclusive), by package of the innermost frame, and for
    the engine's own functions (inclusive: the time spent in them and everything they call)."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    project: Counter[str] = Counter()  # inclusive, the engine's own functions only
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ") and
                  not frame.startswith("thread ")]
        if not frames:
            continue
        total += count
        names = []
        for frame in frames:
            match = _FRAME.match(frame)
            function, file = (match["function"], match["file"]) if match else (frame, "")
            names.append((f"{function} ({Path(file).name})", file))
        leaf_name, leaf_file = names[-1]
        self_time[leaf_name] += count
        packages[_package(leaf_file)] += count
        for name in {name for name, _ in names}:
            inclusive[name] += count
        for name in {name for name, file in names if _package(file).startswith("project: ")
                     and not _package(file).endswith("bench")}:
            project[name] += count

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(top)] if total else []

    return {
        "samples": total,
        "self_percent": shares(self_time),
        "inclusive_percent": shares(inclusive),
        "by_package_percent": shares(packages),
        "project_inclusive_percent": shares(project),
    }
