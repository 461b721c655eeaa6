"""The seed's stories, one module per category: everything one story needs, in one file.

Each `stories/<category>.py` holds:

- `CATEGORY`, `ORDER` (where the demo tells it) and `CUSTOMER` (whom its demo complaint is about);
- the customers and the seed's figures, as constants the tests pin;
- `boss_rows(anchor)`: its rows in the billing-system sandbox, anchored to the day the customer came in;
- `PARTNER_RECORDS` where a partner carrier or agent store takes part;
- `stories(now)`: the demo's telling, the complaint as filed and how its people answer.

The billing sandbox's seeder (sandboxes/boss_seed.py), the partner sandbox (sandboxes/partner_state.py),
the demo (cli/demo_run.py), the benchmarks and the replay recorder all read them from here. Modules are
found by listing this package, so adding a story never means editing a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from types import ModuleType

from stories.story import Story


def story_modules() -> list[ModuleType]:
    """Every story module of the package, in the order the demo tells them."""
    modules = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "stories"):
            modules.append(module)
    modules.sort(key=lambda module: module.ORDER)
    return modules


def seed_stories(now: datetime | None = None) -> list[Story]:
    """Every story of every category module, in the modules' ORDER."""
    now = now or datetime.now(UTC)
    return [story for module in story_modules() for story in module.stories(now)]
