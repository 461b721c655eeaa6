"""Where the worker's case policy comes from: a versioned policy file the deployment owns, or the settings.

Read at the edge (the worker), checked at start like every setting. A file is read again when it changes,
so publishing a new version needs no restart: cases filed from then on get it, cases already open keep
the version they recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import structlog
from pydantic import ValidationError

from domain.policy import Policy, settings_policy
from domain.validation import describe
from runtime.settings import ConfigError, Settings

POLICY_FILE_VARIABLE = "COMPLAINTS_POLICY_FILE"

log = structlog.get_logger()


def read_policy_file(path: Path) -> Policy:
    """The policy in `path`; ConfigError (one line, naming the variable) if it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{POLICY_FILE_VARIABLE}={str(path)!r} cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise ConfigError(f"{POLICY_FILE_VARIABLE}={str(path)!r} is not JSON: {error}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        problems = describe(error).replace("\n", "; ")
        raise ConfigError(f"{POLICY_FILE_VARIABLE}={str(path)!r}: {problems}") from None


class PolicySource:
    """The current policy of this worker. Raises ConfigError at construction if the file is unusable."""

    def __init__(self, settings: Settings) -> None:
        self._path = settings.policy_file
        self._mtime: float | None = None
        if self._path is None:
            self._policy = settings_policy(
                settings.approval_limit_fen, settings.sla_warn_percent, settings.reopen_window_days
            )
        else:
            self._mtime = self._path.stat().st_mtime if self._path.exists() else None
            self._policy = read_policy_file(self._path)

    def current(self) -> Policy:
        """The policy now: the file's latest good version. A broken edit keeps the last good one, loudly."""
        if self._path is not None:
            try:
                mtime = self._path.stat().st_mtime
                if mtime != self._mtime:
                    self._policy = read_policy_file(self._path)
                    self._mtime = mtime
                    log.info("policy loaded", policy_version=self._policy.version)
            except (OSError, ConfigError) as error:
                log.error("policy file unusable; keeping the last good version", error=str(error),
                          policy_version=self._policy.version)
        return self._policy
