"""Gathering rollouts across processes, so group-level rewards see whole groups.

TRL calls a reward function with its own process's slice of the batch, and a prompt's group of
``num_generations`` rollouts can be split between processes (2 processes x 6 rows with 4
generations split the middle group 2 + 2). TRL gathers the reward tensor only after the reward
functions return, in process-major order. A group-level reward therefore gathers the rows of all
processes in that same order, scores whole groups and returns its own slice. On one process (or
without ``torch.distributed``) nothing is gathered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def world_size() -> int:
    """Number of processes of the initialised ``torch.distributed`` group (1 when there is none)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def process_index() -> int:
    """Rank of this process (0 when ``torch.distributed`` is not initialised)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


def gather_rows(rows: Sequence[T]) -> tuple[list[T], list[int]]:
    """Gathers the rows of every process, in process-major order (the order of TRL's reward gather).

    Uses ``accelerate.utils.gather_object``; every process must call it with its own rows (it is a
    collective operation). Processes may hold different numbers of rows.

    Args:
        rows: This process's rows (any picklable objects).

    Returns:
        ``(all_rows, counts)``: the rows of process 0, then process 1, ...; and how many rows each
        process contributed. On one process: ``(list(rows), [len(rows)])``.
    """
    rows = list(rows)
    size = world_size()
    if size == 1:
        return rows, [len(rows)]
    from accelerate.utils import gather_object

    per_process = gather_object([rows])
    if len(per_process) != size:
        # accelerate's state does not know about this process group (plain torch.distributed).
        import torch.distributed as dist

        per_process = [None] * size
        dist.all_gather_object(per_process, rows)
    counts = [len(part) for part in per_process]
    return [row for part in per_process for row in part], counts


def local_slice(values: Sequence[T], counts: Sequence[int], rank: int) -> list[T]:
    """This process's part of values computed on the gathered rows.

    Args:
        values: One value per gathered row, in process-major order.
        counts: Rows contributed by each process, as returned by :func:`gather_rows`.
        rank: This process's index.

    Returns:
        The values of rows ``sum(counts[:rank])`` to ``sum(counts[:rank + 1])``.
    """
    if len(values) != sum(counts):
        raise ValueError(f"Got {len(values)} values for {sum(counts)} gathered rows.")
    start = sum(counts[:rank])
    return list(values[start : start + counts[rank]])


def gather_for_groups(rows: Sequence[Any], gather: bool = True) -> tuple[list[Any], list[int], int]:
    """Gathers rows when ``gather`` is on and several processes run; otherwise keeps them local.

    Returns:
        ``(all_rows, counts, rank)`` to pass on to :func:`local_slice`.
    """
    if gather and world_size() > 1:
        all_rows, counts = gather_rows(rows)
        return all_rows, counts, process_index()
    rows = list(rows)
    return rows, [len(rows)], 0
