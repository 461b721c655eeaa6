"""Domain errors: plain exceptions whose messages a person at the counter can act on."""

from __future__ import annotations


class DomainError(ValueError):
    """A request the domain refuses. The message is meant for the person who made it."""


class InvalidMsisdn(DomainError):
    """Not an 11-digit mainland mobile number."""


class InvalidIdNumber(DomainError):
    """Not an 18-character resident ID number with a valid check digit."""


class InvalidIntake(DomainError):
    """A complaint that cannot be filed as given."""


class InvalidCommand(DomainError):
    """An answer, approval, note or other command that does not fit the case as it stands."""


class ApprovalRefused(InvalidCommand):
    """The approver may not approve this adjustment."""
