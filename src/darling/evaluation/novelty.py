"""NoveltyBench metrics of a group of generations, under either of two scoring protocols.

NoveltyBench (Zhang et al. 2025) samples k = 10 generations a prompt, partitions them greedily
with a DeBERTa classifier and scores each one 1-10 with a reward model. ``distinct`` is the number
of classes in both protocols (one historical result file stores ``max(label)``, i.e. classes - 1,
in its ``distinct`` field; both summaries count classes, as here). They differ in the rest:

- ``"upstream"`` (NoveltyBench itself, the default): the classifier reads 128 tokens of each text;
  ``utility`` credits each generation its score only if it is the first of its class (0 for a
  repeat) and takes the average of the credited scores weighted by ``patience ** i`` (0.8) at
  position ``i``, as NoveltyBench's ``score.py``.
- ``"darling"`` (the DARLING authors' fork of NoveltyBench, ``evals/novelty-bench`` of
  facebookresearch/darling, which produced the paper's NoveltyBench numbers): the classifier reads
  512 tokens of each text; ``utility`` = sum of the scores of each class's first member / k (no
  patience discount); ``quality`` = mean score of all k generations, repeats included.

Both average every per-prompt number over prompts with equal weight.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

NOVELTYBENCH_PROTOCOLS: tuple[str, ...] = ("upstream", "darling")
# Tokens of each text the pair classifier reads under each protocol (NoveltyBench: 128; fork: 512).
PROTOCOL_MAX_TOKENS_PER_TEXT: dict[str, int] = {"upstream": 128, "darling": 512}
DEFAULT_PATIENCE = 0.8


def check_protocol(protocol: str) -> str:
    """Returns ``protocol`` if it names a NoveltyBench protocol, else raises a ``ValueError`` listing them.

    Example:
        >>> check_protocol("darling")
        'darling'
    """
    if not isinstance(protocol, str) or protocol not in NOVELTYBENCH_PROTOCOLS:
        raise ValueError(
            f"Unknown NoveltyBench protocol {protocol!r}; choose one of: 'upstream' (NoveltyBench: "
            "128 tokens a text, patience-weighted utility) or 'darling' (the DARLING paper's fork: "
            "512 tokens a text, utility = class heads' scores / k, plus mean quality). NoveltyBench's "
            "metric v1.1 (LLM judges) is `--protocol v1.1` of darling evaluate / darling partition "
            "(darling.evaluation.novelty_v11)."
        )
    return protocol


def check_patience(patience: float | None, protocol: str = "upstream") -> float | None:
    """The patience ``utility`` uses: 0.8 when unset under ``"upstream"``, ``None`` under ``"darling"``.

    Raises:
        ValueError: For an unknown protocol, a patience outside [0, 1], or a patience given with
            ``"darling"`` (which has no patience discount).
    """
    check_protocol(protocol)
    if protocol == "darling":
        if patience is not None:
            raise ValueError(
                "The 'darling' protocol has no patience discount (utility = sum of the class heads' "
                "scores / k); drop the patience or use the 'upstream' protocol."
            )
        return None
    patience = DEFAULT_PATIENCE if patience is None else patience
    if isinstance(patience, bool) or not isinstance(patience, (int, float)) or not 0.0 <= patience <= 1.0:
        raise ValueError(f"`patience` must be in [0, 1], got {patience!r}.")
    return float(patience)


def _check_labels(labels: Sequence[int]) -> list[int]:
    if isinstance(labels, (str, bytes)):
        raise TypeError("`labels` must be a sequence of integer class labels, got a string.")
    out = list(labels)
    for i, label in enumerate(out):
        if isinstance(label, bool) or not isinstance(label, int):
            raise TypeError(f"labels[{i}] must be an integer class label, got {label!r}.")
    return out


def _check_scores(scores: Sequence[float]) -> list[float]:
    if isinstance(scores, (str, bytes)):
        raise TypeError("`scores` must be a sequence of numbers, got a string.")
    out = []
    for i, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise TypeError(f"scores[{i}] must be a number, got {score!r}.")
        out.append(float(score))
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
    scores = _check_scores(scores)
    if len(scores) != len(labels):
        raise ValueError(f"Got {len(labels)} labels but {len(scores)} scores; give one score per generation.")
    seen: set[int] = set()
    out = []
    for label, score in zip(labels, scores):
        out.append(0.0 if label in seen else score)
        seen.add(label)
    return out


def utility(
    labels: Sequence[int], scores: Sequence[float], patience: float | None = None, protocol: str = "upstream"
) -> float:
    """NoveltyBench utility of one prompt's generations.

    Args:
        labels: Class label of each generation, in generation order.
        scores: Quality score of each generation (NoveltyBench: 1-10).
        patience: ``"upstream"`` only: weight decay per position, in [0, 1] (default 0.8).
        protocol: ``"upstream"``: ``sum_i patience**i * credited_i / sum_i patience**i``;
            ``"darling"``: ``sum(credited) / k``, the scores of the classes' first members over the
            number of generations.

    Returns:
        The utility (0.0 for no generations).

    Raises:
        ValueError: If the lengths differ, ``patience`` is outside [0, 1] or given with the
            ``"darling"`` protocol, or the protocol is unknown.

    Example:
        >>> round(utility([0, 0], [10, 10], patience=0.5), 4)  # 10 * 1 / (1 + 0.5)
        6.6667
        >>> utility([0, 0, 1, 2], [7, 9, 5, 2], protocol="darling")  # (7 + 5 + 2) / 4
        3.5
    """
    patience = check_patience(patience, protocol)
    credited = credited_scores(labels, scores)
    if not credited:
        return 0.0
    if protocol == "darling":
        return sum(credited) / len(credited)
    weights = [patience**i for i in range(len(credited))]
    return sum(w * s for w, s in zip(weights, credited)) / sum(weights)


def quality(scores: Sequence[float]) -> float:
    """Mean score of all of a prompt's generations, repeats included (the ``"darling"`` protocol's ``quality``).

    It needs each generation's own score: NoveltyBench's credited ``generation_scores`` (0 for a
    repeat) would pull it down.

    Example:
        >>> quality([7, 9, 5, 3])
        6.0
    """
    values = _check_scores(scores)
    return sum(values) / len(values) if values else 0.0


def noveltybench_metrics(
    labels: Sequence[int],
    scores: Sequence[float] | None = None,
    patience: float | None = None,
    protocol: str = "upstream",
) -> dict[str, float]:
    """The NoveltyBench numbers of one prompt's generations under ``protocol``.

    Args:
        labels: Class label of each generation, in generation order.
        scores: Quality score of each generation; without them only ``distinct``.
        patience: ``"upstream"`` utility patience (default 0.8).
        protocol: ``"upstream"`` or ``"darling"`` (see the module docstring).

    Returns:
        ``{"distinct", "utility"}``, plus ``"quality"`` under ``"darling"`` (only ``distinct``
        without scores).

    Example:
        >>> noveltybench_metrics([0, 0, 1, 2], [7, 9, 5, 2], protocol="darling")
        {'distinct': 3, 'utility': 3.5, 'quality': 5.75}
    """
    check_protocol(protocol)
    out: dict[str, float] = {"distinct": distinct(labels)}
    if scores is not None:
        out["utility"] = utility(labels, scores, patience, protocol)
        if protocol == "darling":
            out["quality"] = quality(scores)
    return out


def _warn_if_credited(labels: list[Sequence[int]], scores: list[Sequence[float]]) -> None:
    repeats = [s for lab, sc in zip(labels, scores) for s, c in zip(sc, credited_scores(lab, sc)) if c == 0.0]
    heads = [c for lab, sc in zip(labels, scores) for c in credited_scores(lab, sc) if c != 0.0]
    if repeats and heads and all(s == 0 for s in repeats):
        warnings.warn(
            "Every repeated generation has score 0: these look like NoveltyBench's credited scores "
            "(its `generation_scores`); the 'darling' protocol's `quality` needs each generation's own score.",
            stacklevel=3,
        )


def noveltybench_summary(
    labels: Sequence[Sequence[int]],
    scores: Sequence[Sequence[float]] | None = None,
    patience: float | None = None,
    protocol: str = "upstream",
) -> dict[str, float]:
    """Means over prompts, as the protocol's ``summary.json``.

    Args:
        labels: Class labels of each prompt's generations.
        scores: Quality scores of each prompt's generations; without them only ``mean_distinct``.
        patience: ``"upstream"`` utility patience (default 0.8).
        protocol: ``"upstream"`` (NoveltyBench) or ``"darling"`` (the DARLING paper's fork).

    Returns:
        ``{"mean_distinct", "mean_utility"}``, plus ``"mean_quality"`` under ``"darling"``
        (only ``mean_distinct`` without scores).

    Raises:
        ValueError: For no prompts, mismatched lengths (naming the prompt) or an unknown protocol.

    Example:
        >>> noveltybench_summary([[0, 0, 1], [0, 1, 2]], [[8, 6, 4], [3, 3, 3]], protocol="darling")
        {'mean_distinct': 2.5, 'mean_utility': 3.5, 'mean_quality': 4.5}
    """
    check_protocol(protocol)
    labels = list(labels)
    if not labels:
        raise ValueError("NoveltyBench summary needs at least one prompt; `labels` is empty.")
    if scores is not None:
        scores = list(scores)
        if len(scores) != len(labels):
            raise ValueError(f"Got labels for {len(labels)} prompts but scores for {len(scores)}.")
    per_prompt = []
    for index, group_labels in enumerate(labels):
        try:
            group_scores = None if scores is None else scores[index]
            per_prompt.append(noveltybench_metrics(group_labels, group_scores, patience, protocol))
        except (TypeError, ValueError) as err:
            raise type(err)(f"Prompt {index}: {err}") from None
    if scores is not None and protocol == "darling":
        _warn_if_credited(labels, scores)
    return {f"mean_{key}": sum(m[key] for m in per_prompt) / len(per_prompt) for key in per_prompt[0]}
