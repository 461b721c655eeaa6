"""Turning adapter errors into Temporal failures: permanent ones stop retries, the rest are retried."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def permanent(error: Exception) -> ApplicationError:
    """A failure that no retry can fix, typed by the error's class name so the workflow can decide."""
    return ApplicationError(str(error), type=type(error).__name__, non_retryable=True)
