"""Temporal workflows: they orchestrate deterministically and commit what the domain decides."""
