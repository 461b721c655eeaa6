"""The Python client API that back-office automation and starter.py use to drive cases."""

from client.api import CaseNotFound, ComplaintClient, CommandRefused

__all__ = ["CaseNotFound", "ComplaintClient", "CommandRefused"]
