"""Audit and history: archived Temporal histories, hash-chain verification and export bundles.

Everything here reads PostgreSQL only, so it keeps working after Temporal has dropped a case.
"""
