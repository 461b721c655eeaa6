"""Row to model: one way for every PostgreSQL reader to turn a row into the dataclass or pydantic model it holds.

The readers used to name each column twice (`seq=row["seq"], ...`); a model whose fields are the row's columns
now says so once, and only the fields computed from the row are written out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


def model_from_row(model: type[T], row: Mapping[str, Any], /, **given: Any) -> T:
    """Build `model` from the row's columns of the same names as its fields.

    Args:
        model: a dataclass or a pydantic model.
        row: an asyncpg Record or any mapping of column name to value.
        **given: fields computed from the row (or renamed); they win over a column of the same name.

    Returns:
        The model; a field the row has no column for keeps its default (the model says if it may not).
    """
    if dataclasses.is_dataclass(model):
        names = [field.name for field in dataclasses.fields(model)]
    elif issubclass(model, BaseModel):
        names = list(model.model_fields)
    else:
        raise TypeError(f"{model!r} is neither a dataclass nor a pydantic model")
    columns = set(row.keys())
    values = {name: row[name] for name in names if name in columns and name not in given}
    return model(**values, **given)
