"""NoveltyBench metrics: ``distinct`` and ``utility`` of a group of generations.

NoveltyBench (Zhang et al. 2025) samples k = 10 generations a prompt, partitions them greedily
with a DeBERTa classifier and scores each one 1-10 with a reward model. Then:

- ``distinct`` is the number of classes. (One historical result file stores ``max(label)``,
  i.e. classes - 1, in its ``distinct`` field; NoveltyBench's own summary uses the number of
  classes, as here.)
- ``utility`` credits each generation its score only if it is the first of its class (0 for a
  repeat) and takes the average of the credited scores weighted by ``patience ** i`` for the
  generation at position ``i``:
  ``np.average(credited, weights=patience ** np.arange(k))``, as NoveltyBench's ``score.py``.
"""

from __future__ import annotations

from collections.abc import Sequence


def _check_labels(labels: Sequence[int]) -> list[int]:
    if isinstance(labels, (str, bytes)):
        raise TypeError("`labels` must be a sequence of integer class labels, got a string.")
    out = list(labels)
    for i, label in enumerate(out):
        if isinstance(label, bool) or not isinstance(label, int):
            raise TypeError(f"labels[{i}] must be an integer class label, got {label!r}.")
    return out


def distinct(labels: Sequence[int]) -> int:
    """Number of equivalence classes among a group's generations.

    Example:
        >>> distinct([0, 1, 1, 2, 0])
        3
    """
    return len(set(_check_labels(labels)))


def credited_scores(labels: Sequence[int], scores: Sequence[float]) -> list[float]:
    """Each generation's score if it is the first of its class, else 0.

    Args:
        labels: Class label of each generation.
        scores: Quality score of each generation (already-credited scores pass through unchanged).

    Returns:
        The credited scores, one per generation.

    Example:
        >>> credited_scores([0, 1, 0], [7, 5, 9])
        [7.0, 5.0, 0.0]
    """
    labels = _check_labels(labels)
    scores = list(scores)
    if len(scores) != len(labels):
        raise ValueError(f"Got {len(labels)} labels but {len(scores)} scores; give one score per generation.")
    seen: set[int] = set()
    out = []
    for label, score in zip(labels, scores):
        out.append(0.0 if label in seen else float(score))
        seen.add(label)
    return out


def utility(labels: Sequence[int], scores: Sequence[float], patience: float = 0.8) -> float:
    """NoveltyBench utility: patience-weighted mean of the credited scores.

    Args:
        labels: Class label of each generation, in generation order.
        scores: Quality score of each generation (NoveltyBench: 1-10).
        patience: Weight decay per position, in [0, 1] (the chance a user reads one more).

    Returns:
        ``sum_i patience**i * credited_i / sum_i patience**i`` (0.0 for no generations).

    Raises:
        ValueError: If the lengths differ or ``patience`` is outside [0, 1].

    Example:
        >>> round(utility([0, 0], [10, 10], patience=0.5), 4)  # 10 * 1 / (1 + 0.5)
        6.6667
    """
    if not 0.0 <= patience <= 1.0:
        raise ValueError(f"`patience` must be in [0, 1], got {patience}.")
    credited = credited_scores(labels, scores)
    if not credited:
        return 0.0
    weights = [patience**i for i in range(len(credited))]
    return sum(w * s for w, s in zip(weights, credited)) / sum(weights)


def noveltybench_summary(
    labels: Sequence[Sequence[int]], scores: Sequence[Sequence[float]] | None = None, patience: float = 0.8
) -> dict[str, float]:
    """Means over prompts, as NoveltyBench's ``summary.json``.

    Args:
        labels: Class labels of each prompt's generations.
        scores: Quality scores of each prompt's generations; without them only ``mean_distinct``.
        patience: Utility patience.

    Returns:
        ``{"mean_distinct": ..., "mean_utility": ...}`` (``mean_utility`` only with scores).
    """
    labels = list(labels)
    if not labels:
        raise ValueError("NoveltyBench summary needs at least one prompt; `labels` is empty.")
    summary = {"mean_distinct": sum(distinct(group) for group in labels) / len(labels)}
    if scores is not None:
        scores = list(scores)
        if len(scores) != len(labels):
            raise ValueError(f"Got labels for {len(labels)} prompts but scores for {len(scores)}.")
        values = []
        for index, (group_labels, group_scores) in enumerate(zip(labels, scores)):
            try:
                values.append(utility(group_labels, group_scores, patience))
            except (TypeError, ValueError) as err:
                raise type(err)(f"Prompt {index}: {err}") from None
        summary["mean_utility"] = sum(values) / len(values)
    return summary
