"""The pure domain: events, state, commands and each category's decisions; no I/O, no Temporal."""
