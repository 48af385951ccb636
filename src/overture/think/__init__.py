"""Think before answering: plan, draft several candidates per section, critique them, keep
the best, retract and re-plan what falls below the bar, review the rendered audio and fix
what it flags, and leave a trace a person can read (``overture explain DIR``).

``--think none|low|medium|high`` names a budget of 1, 2, 4 or 8 drafts per section
(``--budget N`` sets it directly); ``none`` is one draft per section, the fastest answer.
"""

from __future__ import annotations

from overture.errors import InvalidInputError
from overture.think.loop import (
    BAR,
    DEFAULT_THINK,
    MAX_BUDGET,
    THINK_LEVELS,
    SectionChange,
    Thinker,
    choose_change,
)
from overture.think.trace import DraftEntry, Trace, explain, load_trace

__all__ = [
    "BAR",
    "DEFAULT_THINK",
    "MAX_BUDGET",
    "THINK_LEVELS",
    "DraftEntry",
    "SectionChange",
    "Thinker",
    "Trace",
    "choose_change",
    "explain",
    "load_trace",
    "resolve_budget",
]


def resolve_budget(think: str | None = None, budget: int | None = None) -> tuple[int, str | None]:
    """(drafts per section, the level's name or None) from ``--think`` and ``--budget``.

    ``budget`` wins when both are given; neither means the default level (medium, 4)."""
    if budget is not None:
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise InvalidInputError(f"--budget must be a whole number of drafts, not {budget!r}")
        if not 1 <= budget <= MAX_BUDGET:
            raise InvalidInputError(
                f"--budget must be between 1 and {MAX_BUDGET} drafts per section, got {budget}"
            )
        level = next((k for k, v in THINK_LEVELS.items() if v == budget), None)
        return budget, level
    name = (think or DEFAULT_THINK).strip().lower()
    if name not in THINK_LEVELS:
        choices = ", ".join(THINK_LEVELS)
        raise InvalidInputError(f"unknown --think level {think!r}; choose one of {choices}")
    return THINK_LEVELS[name], name
