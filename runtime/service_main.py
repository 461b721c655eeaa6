"""The `main` every long-running service shares: settings, logging, run until Ctrl-C, bad config is exit 2."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from runtime.logging import configure_logging
from runtime.settings import ConfigError, Settings, load_settings_or_exit


def run_service(serve: Callable[[Settings], Coroutine[Any, Any, None]]) -> int:
    """Run `serve` on the environment's settings until it returns or Ctrl-C, and give the exit status.

    A ConfigError raised while starting (a missing address, a bad key) is the operator's to fix, so it is
    printed as `config error: ...` with status 2 rather than a traceback.
    """
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(settings))
        except ConfigError as error:
            print(f"config error: {error}", file=sys.stderr)
            return 2
    return 0
