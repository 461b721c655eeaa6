"""Running the engine: settings, logging, the embedded runtime (Temporal, PostgreSQL) and process helpers."""
