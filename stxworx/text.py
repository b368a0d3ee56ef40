from __future__ import annotations

import re

_SNAKE = re.compile(r"_([a-z0-9])")


def camel_case(name: str) -> str:
    """`proposed_budget` -> `proposedBudget`; already camel names pass through."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)
