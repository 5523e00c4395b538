"""Unbiased pass@k (Chen et al. 2021), per problem and averaged over problems.

With ``n`` samples of which ``c`` are correct, the chance that at least one of ``k`` samples drawn
without replacement is correct is ``1 - C(n - c, k) / C(n, k)``. The binomials overflow for the
paper's ``n = 256``, so it is computed as the product ``1 - prod_{i=n-c+1..n} (1 - k / i)``, which
is exact and stable (and 1.0 whenever ``n - c < k``: every draw of ``k`` holds a correct sample).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            raise TypeError(f"`{name}` must be an integer, got {value!r}.") from None
        if as_int != value:
            raise TypeError(f"`{name}` must be an integer, got {value!r}.")
        value = as_int
    return value


def pass_at_k(num_samples: int, num_correct: int, k: int) -> float:
    """Unbiased pass@k of one problem.

    Args:
        num_samples: Samples drawn for the problem (``n``).
        num_correct: Correct samples among them (``c``).
        k: Samples the metric allows (``k <= n``).

    Returns:
        ``1 - C(n - c, k) / C(n, k)``, in [0, 1].

    Raises:
        ValueError: If ``k < 1``, ``n < k`` or ``c`` is not in ``[0, n]``.

    Example:
        >>> pass_at_k(4, 1, 2)  # 1 - C(3, 2) / C(4, 2) = 1 - 3/6
        0.5
    """
    n, c, k = (
        _check_count(num_samples, "num_samples"),
        _check_count(num_correct, "num_correct"),
        _check_count(k, "k"),
    )
    if k < 1:
        raise ValueError(f"pass@k needs k >= 1, got k={k}.")
    if n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}; draw more samples or lower k.")
    if not 0 <= c <= n:
        raise ValueError(f"`num_correct` must be in [0, num_samples={n}], got {c}.")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def pass_at_k_per_problem(
    num_samples: Sequence[int] | int, num_correct: Sequence[int], k: int
) -> list[float]:
    """pass@k of each problem.

    Args:
        num_samples: Samples per problem: one count for all, or one per problem.
        num_correct: Correct samples of each problem.
        k: Samples the metric allows.

    Returns:
        One pass@k per problem.

    Raises:
        ValueError: If the lengths differ, or a problem has fewer than ``k`` samples (naming it).
    """
    correct = list(num_correct)
    samples = [num_samples] * len(correct) if isinstance(num_samples, numbers.Integral) else list(num_samples)
    if len(samples) != len(correct):
        raise ValueError(
            f"`num_samples` has {len(samples)} entries but `num_correct` has {len(correct)}; give one per problem."
        )
    out = []
    for index, (n, c) in enumerate(zip(samples, correct)):
        try:
            out.append(pass_at_k(n, c, k))
        except ValueError as err:
            raise ValueError(f"Problem {index}: {err}") from None
    return out


def mean_pass_at_k(
    num_samples: Sequence[int] | int, num_correct: Sequence[int], k_list: Sequence[int] | int
) -> dict[str, float]:
    """pass@k averaged over problems, for each k of ``k_list``.

    Args:
        num_samples: Samples per problem: one count for all, or one per problem.
        num_correct: Correct samples of each problem.
        k_list: The k values (an int for a single one).

    Returns:
        ``{"pass@1": ..., "pass@4": ...}`` in the order of ``k_list``.

    Raises:
        ValueError: If there are no problems, or a problem has fewer than ``k`` samples.

    Example:
        >>> mean_pass_at_k(4, [0, 1, 4], [1, 2])
        {'pass@1': 0.4166666666666667, 'pass@2': 0.5}
    """
    ks = [k_list] if isinstance(k_list, numbers.Integral) else list(k_list)
    if not ks:
        raise ValueError("`k_list` is empty; give at least one k, for example [1, 8, 64].")
    correct = list(num_correct)
    if not correct:
        raise ValueError("pass@k needs at least one problem; `num_correct` is empty.")
    result = {}
    for k in ks:
        values = pass_at_k_per_problem(num_samples, correct, k)
        result[f"pass@{k}"] = sum(values) / len(values)
    return result


def count_correct(scores: Sequence[float | None], threshold: float = 0.5) -> int:
    """Number of samples whose score is above ``threshold`` (``None``, an unscorable sample, counts as wrong)."""
    return sum(1 for s in scores if s is not None and s > threshold)
