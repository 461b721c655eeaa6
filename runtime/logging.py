"""structlog set up once per process: JSON in production, readable lines in a terminal.

structlog's own loggers and the standard library's (temporalio's worker and `workflow.logger`,
asyncpg, aiohttp) go through the same handler, so every line gets the same ISO UTC timestamp,
level, and the same masking of phone and ID numbers, including inside exception text. The
Temporal SDK's core (Rust) writes its warnings to the console itself, with colour codes; it is set
to forward them to the `temporalio.core` logger instead, so they go through the same handler. The
warnings a library raises with `warnings.warn` (the SDK does, at shutdown) become one WARNING line
of the `py.warnings` logger too, instead of two raw lines on standard error.

One line per event: the SDK's activity and workflow loggers repeat their context dict in the
message and in an extra field; here it becomes the same flat ids (workflow_id, run_id, activity,
attempt) our own lines carry. An activity attempt that fails and will be retried is one WARNING
line with the attempt and the reason; the traceback comes only with the last attempt.

Console lines are for people: the ids come first (so a line cut short loses its least useful end),
the workflow id is left out where it is the complaint id, and every line (of a traceback too) is cut
at MAX_CONSOLE_LINE characters. JSON lines keep every field in full.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
import temporalio.activity
import temporalio.runtime
import temporalio.workflow
from structlog.typing import EventDict, Processor, WrappedLogger
from temporalio.exceptions import ApplicationError
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from domain.masking import scrub

FORMATS = ("console", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Libraries that log every step they take at INFO; their warnings still come through.
_CHATTY_LOGGERS = ("pgserver", "asyncio")

MAX_CONSOLE_LINE = 300
MAX_REASON = 120  # characters of an error message on a retry line
MAX_CONSOLE_EVENT = 120  # characters of a console line's message
MAX_CONSOLE_VALUE = 100  # characters of a console line's field value (ids are never cut)
_IDS = ("complaint_id", "workflow_id", "run_id", "workflow", "activity", "attempt")
# Console only: the SDK's activity and workflow lines under the names of our own.
_CONSOLE_LOGGER_NAMES = {"temporalio.activity": "activity", "temporalio.workflow": "workflow"}

# What the SDK's worker logs (with exc_info) when an activity attempt raised.
_ACTIVITY_FAILED = "Completing activity as failed"
_COMPLAINT_WORKFLOW = "ComplaintWorkflow"  # its workflow id is the complaint id

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


def temporal_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor for the SDK's records: its context dicts become flat ids, once.

    A failed activity attempt that will be retried loses its traceback and gets `reason` instead.
    """
    event_dict.pop("__temporal_error_identifier", None)
    core_log = event_dict.pop("temporal_log", None)
    core_fields = getattr(core_log, "fields", None)
    if isinstance(core_fields, Mapping):
        for key, value in core_fields.items():
            event_dict.setdefault(str(key), value if isinstance(value, int | float | bool) else str(value))
    info = event_dict.pop("activity_info", None)
    activity_context = event_dict.pop("temporal_activity", None)
    workflow_context = event_dict.pop("temporal_workflow", None)
    if isinstance(activity_context, Mapping):
        _set_ids(event_dict, activity_context, run_id_key="workflow_run_id")
        event_dict.setdefault("activity", activity_context.get("activity_type"))
        event_dict.setdefault("attempt", activity_context.get("attempt"))
    if isinstance(workflow_context, Mapping):
        _set_ids(event_dict, workflow_context, run_id_key="run_id")
        event_dict.setdefault("workflow", workflow_context.get("workflow_type"))
    if event_dict.get("event") == _ACTIVITY_FAILED:
        _summarise_activity_failure(event_dict, info if isinstance(info, temporalio.activity.Info) else None)
    return event_dict


def _set_ids(event_dict: EventDict, context: Mapping[str, Any], *, run_id_key: str) -> None:
    workflow_id = context.get("workflow_id")
    if context.get("workflow_type") == _COMPLAINT_WORKFLOW:
        event_dict.setdefault("complaint_id", workflow_id)
    event_dict.setdefault("workflow_id", workflow_id)
    event_dict.setdefault("run_id", context.get(run_id_key))


def _summarise_activity_failure(event_dict: EventDict, info: temporalio.activity.Info | None) -> None:
    exc_info = event_dict.get("exc_info")
    error = exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None
    if error is None:
        return
    if isinstance(error, ApplicationError):  # its str() starts with the type already
        error_type, message = error.type or type(error).__name__, error.message
    else:
        error_type, message = type(error).__name__, str(error)
    message = " ".join(message.split())
    reason = f"{error_type}: {message}" if message else error_type
    event_dict["reason"] = _cut(reason, MAX_REASON)
    if _is_last_attempt(error, error_type, info):
        event_dict["event"] = "activity failed, no retry left"
    else:
        # The workflow will see the attempt again; the traceback waits for the last one.
        event_dict["event"] = "attempt failed, will retry"
        event_dict.pop("exc_info", None)


def _is_last_attempt(error: BaseException, error_type: str, info: temporalio.activity.Info | None) -> bool:
    if isinstance(error, ApplicationError) and error.non_retryable:
        return True
    policy = info.retry_policy if info is not None else None
    if policy is None:
        return False  # the server's default policy retries without limit
    if policy.maximum_attempts and info is not None and info.attempt >= policy.maximum_attempts:
        return True
    return error_type in (policy.non_retryable_error_types or ())


def _console_fields(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Console only: ids first in a fixed order, then the rest by name, long texts cut; no workflow id twice."""
    if event_dict.get("workflow_id") is not None and event_dict.get("workflow_id") == event_dict.get("complaint_id"):
        del event_dict["workflow_id"]
    ids = {key: event_dict.pop(key) for key in _IDS if key in event_dict}
    rest = {key: event_dict[key] for key in sorted(event_dict)}
    if isinstance(rest.get("logger"), str):
        rest["logger"] = _CONSOLE_LOGGER_NAMES.get(rest["logger"], rest["logger"])
    if isinstance(rest.get("event"), str):
        rest["event"] = _cut(" ".join(rest["event"].split()), MAX_CONSOLE_EVENT)
    for key, value in rest.items():
        if key not in ("event", "exception", "timestamp", "level", "logger"):
            text = value if isinstance(value, str) else repr(value)
            if len(text) > MAX_CONSOLE_VALUE:
                rest[key] = _cut(text, MAX_CONSOLE_VALUE)
    return {**ids, **rest}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _CappedLines:
    """A console renderer whose every output line holds at most `limit` characters."""

    def __init__(self, renderer: Processor, limit: int) -> None:
        self._renderer = renderer
        self._limit = limit

    def __call__(self, logger: WrappedLogger, method: str, event_dict: EventDict) -> str:
        text = self._renderer(logger, method, event_dict)
        assert isinstance(text, str)
        return "\n".join(_cut(line, self._limit) for line in text.split("\n"))


def _forward_core_logs() -> None:
    """Send the SDK core's own log lines through Python logging (once, before any client exists).

    Left alone, the core writes them to the terminal with colour codes, past our handler and masking.
    When a Temporal runtime already exists in this process (a test session), it is kept as it is.
    """
    runtime_ref = getattr(temporalio.runtime, "_runtime_ref", None)
    if getattr(runtime_ref, "_default_runtime", None) is not None:
        return  # set already; a Runtime made here would only start a thread pool for nothing
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(
                    logger=logging.getLogger("temporalio.core"),
                    prepend_target_on_message=False,  # the target is in the logger name already
                    append_log_fields_to_message=False,  # they become fields: see temporal_context
                ),
            )
        )
    )
    with contextlib.suppress(RuntimeError):
        Runtime.set_default(runtime, error_if_already_set=True)


def _warning_to_log(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """`warnings.showwarning` replacement: one log line, naming where the warning was raised."""
    where = "/".join(filename.replace("\\", "/").split("/")[-2:])
    logging.getLogger("py.warnings").warning(
        "%s: %s", category.__name__, " ".join(str(message).split()), extra={"source": f"{where}:{lineno}"}
    )


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
    rendering: list[Processor]
    if format == "json":
        rendering = [structlog.processors.JSONRenderer(ensure_ascii=False)]
    else:
        console = structlog.dev.ConsoleRenderer(colors=_is_terminal(target), sort_keys=False)
        rendering = [_console_fields, _CappedLines(console, MAX_CONSOLE_LINE)]

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), temporal_context],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before masking, so a number in an exception message is masked too.
            structlog.processors.format_exc_info,
            mask_personal_numbers,
            *rendering,
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

    # The context goes into the extra fields only (turned into flat ids above), not into the message
    # too; the full activity info is what tells a retried attempt from the last one.
    temporalio.activity.logger.activity_info_on_message = False
    temporalio.activity.logger.full_activity_info_on_extra = True
    temporalio.workflow.logger.workflow_info_on_message = False
    _forward_core_logs()
    warnings.showwarning = _warning_to_log

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
