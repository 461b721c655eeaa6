"""How big each benchmark runs: `smoke` proves the code works, `quick` is the default (about 8 minutes for
everything), `full` is what the issue names."""

from __future__ import annotations

from typing import Any

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {
        "throughput": {"cases": 4, "concurrency": 4, "rounds": 1},
        "event_store": {"batched_events": 400, "single_events": 60, "batch": 20, "streams": [1, 4]},
        "queries": {"cases": 300, "events": 3_000, "samples": 10},
        "timers": {"cases": [6], "lead_seconds": 6},
        "memory": {"cases": 6, "settle_seconds": 0.2},
        "remediation": {"numbers": 20, "page_size": 10, "timeout": 120},
        "what_if": {"cases": 200},
        "api_latency": {"cases": 300, "events": 3_000, "samples": 10, "filings": 4,
                        "filing_concurrency": 2},
    },
    "quick": {
        "throughput": {"cases": 100, "concurrency": 50, "rounds": 2},
        "event_store": {"batched_events": 20_000, "single_events": 2_000, "batch": 100, "streams": [1, 10, 100]},
        "queries": {"cases": 20_000, "events": 200_000, "samples": 200},
        "timers": {"cases": [200, 500]},
        "memory": {"cases": 300},
        "remediation": {"numbers": 200, "page_size": 50, "timeout": 300},
        "what_if": {"cases": 10_000},
        "api_latency": {"cases": 20_000, "events": 200_000, "samples": 200, "filings": 60,
                        "filing_concurrency": 10},
    },
    "full": {
        "throughput": {"cases": 1000, "concurrency": 100, "rounds": 2},
        "event_store": {"batched_events": 200_000, "single_events": 20_000, "batch": 100, "streams": [1, 10, 100]},
        "queries": {"cases": 1_000_000, "events": 10_000_000, "samples": 500},
        # The issue's burst sizes, each beside as many bare workflows' timers; a size runs only if the one
        # before it held (the SQLite dev server may not take 5,000).
        "timers": {"cases": [1000, 5000]},
        "memory": {"cases": 1000},
        "remediation": {"numbers": 2000, "page_size": 50, "timeout": 1800},  # the seed's own batch
        "what_if": {"cases": 100_000},
        # The issue's 1M cases in the event store and its read model, which the list pages.
        "api_latency": {"cases": 1_000_000, "events": 10_000_000, "samples": 500,
                        "filings": 500, "filing_concurrency": 50},
    },
}
