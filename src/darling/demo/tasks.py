"""The built-in tasks of the demo, by the name ``--task`` takes."""

from __future__ import annotations

from darling.demo.required_task import RequiredDigitTask
from darling.demo.task import SumTask

Task = SumTask | RequiredDigitTask
"""Either built-in task: both have the same interface (prompts, checker, canonical form, split)."""

TASKS: dict[str, Task] = {
    "sums": SumTask(),
    "required_digit": RequiredDigitTask(),
}
"""The built-in tasks, by the name ``--task`` takes."""


def get_task(name: str) -> Task:
    """The built-in task called ``name`` (a key of :data:`TASKS`).

    Raises:
        ValueError: If there is no such task, naming the ones there are.
    """
    if name not in TASKS:
        raise ValueError(f"Unknown demo task {name!r}; choose one of {', '.join(TASKS)}.")
    return TASKS[name]
