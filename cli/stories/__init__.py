"""The seed's stories, one module per category, each with `ORDER` and `stories(now) -> list[Story]`.

Modules are found by listing this package, so adding a story never means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

from cli.demo import Story


def seed_stories(now: datetime | None = None) -> list[Story]:
    """Every story of every category module, in the modules' ORDER."""
    now = now or datetime.now(UTC)
    modules = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "stories"):
            modules.append(module)
    modules.sort(key=lambda module: module.ORDER)
    return [story for module in modules for story in module.stories(now)]
