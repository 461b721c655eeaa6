"""Payload encryption for Temporal: the AES-GCM codec, its key ring, and the codec server for the Web UI and CLI."""
