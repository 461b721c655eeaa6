"""Temporal activities: thin, idempotent I/O behind the ports, which the workflows call."""
