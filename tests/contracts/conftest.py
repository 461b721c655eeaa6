"""Contract suites: one per port, each test run against the real adapter and the in-memory fake."""

from tests.audit.conftest import audit_db

__all__ = ["audit_db"]
