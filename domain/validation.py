"""Turn pydantic's validation errors into lines a person can read."""

from __future__ import annotations

from pydantic import ValidationError


def describe(error: ValidationError) -> str:
    """One line per problem: `field: what is wrong`, without pydantic's URLs and internals."""
    lines = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "input"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}")
    return "\n".join(lines)
