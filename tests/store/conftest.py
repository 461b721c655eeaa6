"""The store's tests use the audit tests' fresh database per test and in-process starter commands."""

from tests.audit.conftest import audit_db, cli

__all__ = ["audit_db", "cli"]
