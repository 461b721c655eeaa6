"""structlog set up once per process: JSON in production, readable lines in a terminal.

structlog's own loggers and the standard library's (temporalio's worker and `workflow.logger`,
asyncpg, aiohttp) go through the same handler, so every line gets the same ISO UTC timestamp,
level, and the same masking of phone and ID numbers, including inside exception text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from domain.masking import scrub

FORMATS = ("console", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Libraries that log every step they take at INFO; their warnings still come through.
_CHATTY_LOGGERS = ("pgserver", "asyncio")

_configured_with: tuple[str, str, int] | None = None


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, MutableMapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        # A phone number passed as an int would otherwise be logged in clear.
        text = str(value)
        masked = scrub(text)
        return value if masked == text else masked
    return value


def mask_personal_numbers(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask mobile and ID numbers in every value of the event dict."""
    return {key: _masked(value) for key, value in event_dict.items()}


def configure_logging(format: str = "console", level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger; calling again is a no-op.

    Args:
        format: "json" (one object per line, for production) or "console" (for a terminal).
        level: the lowest level written: DEBUG, INFO, WARNING, ERROR or CRITICAL.
        stream: where lines go; standard error by default.
    """
    global _configured_with
    if format not in FORMATS:
        raise ValueError(f"log format {format!r} must be one of: {', '.join(FORMATS)}")
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} must be one of: {', '.join(LEVELS)}")
    target = stream if stream is not None else sys.stderr
    key = (format, level, id(target))
    if _configured_with == key:
        return

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Processor
    if format == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_is_terminal(target))

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before masking, so a number in an exception message is masked too.
            structlog.processors.format_exc_info,
            mask_personal_numbers,
            renderer,
        ],
    )
    handler = logging.StreamHandler(target)
    handler.setFormatter(formatter)
    handler.set_name("complaints")

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "complaints"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a reconfiguration (another format in a test) must reach existing loggers too.
        cache_logger_on_first_use=False,
    )
    _configured_with = key


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
