"""TMF's camelCase and `@type` names for the API's pydantic fields."""

from __future__ import annotations

from typing import Any

from pydantic import Field


def tmf(name: str, **kwargs: Any) -> Any:
    """A field read and written under TMF's `name`, still set by its Python name in code (and by mypy)."""
    return Field(validation_alias=name, serialization_alias=name, **kwargs)
