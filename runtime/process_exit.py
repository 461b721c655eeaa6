"""Leaving a process that used the Temporal client, without the interpreter's finalization.

The temporalio client runs on a Rust (tokio) runtime whose threads outlive asyncio.run and are never shut
down. When they wake during CPython's finalization they can take the GIL from a thread the dying
interpreter no longer knows, and CPython aborts with `Fatal Python error: PyGILState_Release ...`, exit
status 134, after the program's work is done (temporalio/sdk-python#300).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable


def exit_without_finalizing(run: Callable[[], int]) -> None:
    """Run the program, flush what it printed and logged, and leave with os._exit(its status).

    Nothing is left to clean up at this point (asyncio.run has closed the loop, connections and pools), so
    skipping finalization loses nothing and makes the exit status the program's own.
    """
    try:
        code = run()
    except BrokenPipeError:
        # `starter.py show ... | head`: the reader left early. Every command prints after its work, so the
        # work is done; what is left unprinted was not wanted.
        code = 0
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except SystemExit as exit_:  # argparse (2) and the settings check (2) leave this way
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    try:
        logging.shutdown()  # flushes every log handler, files included: os._exit skips atexit
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)

