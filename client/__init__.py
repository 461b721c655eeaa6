"""The Python client API that back-office automation and starter.py use to drive cases."""

from client.api import CaseNotFound, CommandRefused, ComplaintClient

__all__ = ["CaseNotFound", "CommandRefused", "ComplaintClient"]
