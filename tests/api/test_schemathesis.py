"""schemathesis against the app's own OpenAPI, on a real uvicorn on loopback over the real engine: every
operation, authenticated as a supervisor, answers no 5xx and only what its schema says; and schemathesis's
`ignored_auth` check proves every operation refuses a request without a token and with a made-up one.

Bounded: a few examples per operation (explicit and generated phases only, no shrinking), so the run stays
well under a minute. schemathesis calls synchronously, so it runs in a thread while the loop serves."""

from __future__ import annotations

import asyncio
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import ignored_auth, response_schema_conformance, status_code_conformance

from api.app import create_app
from api.serve import serve_api
from tests.api.conftest import SUPERVISOR, ApiEngine, bearer

EXAMPLES_PER_OPERATION = 12


def _exercise(schema: Any, base_url: str, headers: dict[str, str]) -> list[str]:
    """Run every operation's examples; the failures, one line each (schemathesis raises on the first per case)."""
    failures: list[str] = []
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance, ignored_auth]
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # each operation's failures are collected, reported together
            failures.append(f"{operation.label}: {str(error)[:2000]}")
    return failures


async def test_the_api_keeps_its_openapi_promises(api_engine: ApiEngine) -> None:
    app = create_app(api_engine.context)
    schema = schemathesis.openapi.from_dict(app.openapi())
    server = await serve_api(app)
    try:
        failures = await asyncio.to_thread(_exercise, schema, server.url, bearer(SUPERVISOR))
    finally:
        await server.stop()
    assert not failures, "\n\n".join(failures)
