"""maj@k: whether the most common final answer among k samples is correct (majority voting).

The DARLING authors' math evaluation (``evals/math_evaluation`` of facebookresearch/darling) reports
maj@k next to pass@k. Per problem it takes each sample's extracted, normalized answer string, counts
identical strings (``collections.Counter``), takes the most common one (ties go to the answer seen
first) and scores the problem 1 when that answer is correct. Two estimators appear there, and both
are offered here:

- ``resamples=30`` (``math_eval_parallel.py``, the script behind the paper's runs): 30 draws of k
  samples **with replacement** from all n samples, averaged;
- ``resamples=None`` (``rm_maj_eval.py``): one vote over the **first** k samples.

Answers are class labels here: any hashable value, so raw answer strings group by exact string
equality as the official code does, and :func:`answer_classes` groups the strings math-verify calls
equal (``"\\frac{1}{2}"`` and ``"0.5"``), which ``darling evaluate`` uses. A sample without an
answer (``None``) votes for "no answer", which can win and is never correct, as the official empty
string does.
"""

from __future__ import annotations

import numbers
import threading
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

ANSWER_MATCHES: tuple[str, ...] = ("math_verify", "exact")
DEFAULT_RESAMPLES = 30


def _math_verify():
    try:
        import math_verify
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Answer extraction needs `math-verify`: `pip install math-verify` (or `pip install darling-rl[math]`)."
        ) from err
    return math_verify


def _timeout() -> int | None:
    # math-verify's timeouts use signal.alarm, which only works in the main thread.
    return 5 if threading.current_thread() is threading.main_thread() else None


def extract_answer(completion: str) -> str | None:
    """The final answer math-verify reads from a completion, as the string it extracted.

    Args:
        completion: The model's text (the answer is best given in ``\\boxed{}``).

    Returns:
        The extracted answer (e.g. ``"\\frac{2}{6}"``), or ``None`` when there is none.

    Example:
        >>> extract_answer("So the answer is $\\\\boxed{\\\\frac{2}{6}}$.")
        '\\\\frac{2}{6}'
        >>> extract_answer("I am not sure.") is None
        True
    """
    if not isinstance(completion, str):
        raise TypeError(f"extract_answer needs a string, got {type(completion).__name__}.")
    parsed = _math_verify().parse(completion, parsing_timeout=_timeout())
    if not parsed:
        return None
    return parsed[-1] if isinstance(parsed[-1], str) else str(parsed[0])


def answer_classes(answers: Sequence[str | None], match: str = "math_verify") -> list[int]:
    """Groups a problem's answers into classes of equal answers, numbered in order of first occurrence.

    Args:
        answers: Each sample's extracted answer (``None``: no answer; all of them form one class).
        match: ``"math_verify"``: identical strings, and distinct strings that math-verify calls
            equal (each new string is compared with the first string of every class so far);
            ``"exact"``: identical strings only (the official evaluation's grouping).

    Returns:
        One class label per answer.

    Raises:
        ValueError: For an unknown ``match``.

    Example:
        >>> answer_classes(["\\\\frac{1}{2}", "0.5", "3", None, "0.5", None])
        [0, 0, 1, 2, 0, 2]
        >>> answer_classes(["\\\\frac{1}{2}", "0.5", "3"], match="exact")
        [0, 1, 2]
    """
    if match not in ANSWER_MATCHES:
        raise ValueError(f"Unknown answer match {match!r}; choose one of {', '.join(ANSWER_MATCHES)}.")
    if isinstance(answers, (str, bytes)):
        raise TypeError("`answers` must be a sequence of answer strings (or None), got a string.")
    by_string: dict[str | None, int] = {}
    heads: list[Any] = []  # the parsed first answer of each class (None: not comparable)
    labels = []
    for index, answer in enumerate(answers):
        if answer is not None and not isinstance(answer, str):
            raise TypeError(f"answers[{index}] must be a string or None, got {answer!r}.")
        if answer not in by_string:
            label, parsed = None, None
            if answer is not None and match == "math_verify":
                parsed = _parse_answer(answer)
                if parsed is not None:
                    label = _first_equal(heads, parsed)
            if label is None:
                label = len(heads)
                heads.append(parsed)
            by_string[answer] = label
        labels.append(by_string[answer])
    return labels


def _parse_answer(answer: str) -> list | None:
    # An extracted answer is bare LaTeX (3\sqrt{2}); math-verify reads only the first number of bare
    # LaTeX ("3"), so the answer is parsed back inside \boxed{}, where it came from.
    mv = _math_verify()
    parsed = mv.parse("\\boxed{" + answer + "}", parsing_timeout=_timeout()) or mv.parse(
        answer, parsing_timeout=_timeout()
    )
    return parsed or None


def _first_equal(heads: list[Any], parsed: list) -> int | None:
    verify = _math_verify().verify
    for label, head in enumerate(heads):
        if head is not None and verify(head, parsed, timeout_seconds=_timeout()):
            return label
    return None


def majority_vote(labels: Sequence[Hashable]) -> int:
    """Index of the sample that represents the majority: the first member of the most common class.

    Ties go to the class whose first member comes first (``Counter.most_common`` order).

    Example:
        >>> majority_vote(["7", "3", "3", "7", "5"])  # "7" and "3" tie; "7" came first
        0
    """
    if not labels:
        raise ValueError("majority_vote needs at least one answer.")
    counts = Counter(labels)
    winner = max(counts, key=counts.__getitem__)  # max keeps the first of equal counts
    return list(labels).index(winner)


def _is_correct(value: Any) -> bool:
    return value is not None and float(value) > 0.5


def maj_at_k(
    labels: Sequence[Hashable],
    correct: Sequence[float | bool | None],
    k: int,
    resamples: int | None = DEFAULT_RESAMPLES,
    seed: int | np.random.Generator = 0,
) -> float:
    """maj@k of one problem.

    Args:
        labels: Each sample's answer class (or the answer itself, grouped by equality).
        correct: Each sample's correctness (1/0, a bool, or ``None`` for unscorable, counted wrong).
        k: Samples a vote uses (``1 <= k <= n``).
        resamples: Draws of k samples with replacement to average over (official: 30);
            ``None`` votes once over the first k samples.
        seed: Seed (or generator) of the draws.

    Returns:
        The share of votes whose majority answer is correct, in [0, 1]. The majority answer's
        correctness is that of its first sample in the vote.

    Raises:
        ValueError: If the lengths differ, ``k`` is out of range or ``resamples < 1``.

    Example:
        >>> maj_at_k(["4", "5", "4", "5", "5"], [1, 0, 1, 0, 0], k=3, resamples=None)  # "4" twice
        1.0
        >>> maj_at_k(["4", "5", "4", "5", "5"], [1, 0, 1, 0, 0], k=5, resamples=None)  # "5" thrice
        0.0
    """
    labels, correct = list(labels), list(correct)
    n = len(labels)
    if len(correct) != n:
        raise ValueError(f"Got {n} answers but {len(correct)} correctness values; give one per sample.")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise ValueError(
            f"maj@k needs 1 <= k <= {n} (the samples), got k={k!r}; draw more samples or lower k."
        )
    k = int(k)  # a NumPy integer too
    if resamples is None:
        return float(_is_correct(correct[majority_vote(labels[:k])]))
    if isinstance(resamples, bool) or not isinstance(resamples, numbers.Integral) or resamples < 1:
        raise ValueError(f"`resamples` must be a positive int or None (first k samples), got {resamples!r}.")
    resamples = int(resamples)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, k))
    wins = 0
    for row in draws.tolist():
        wins += _is_correct(correct[row[majority_vote([labels[i] for i in row])]])
    return wins / resamples


def mean_maj_at_k(
    labels: Sequence[Sequence[Hashable]],
    correct: Sequence[Sequence[float | bool | None]],
    k_list: Sequence[int] | int,
    resamples: int | None = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, float]:
    """maj@k averaged over problems, for each k of ``k_list``.

    Each (problem, k) draws from its own generator seeded with ``(seed, problem index, k)``, so a
    problem's value does not depend on the other problems or on the other k.

    Args:
        labels: Each problem's answer classes (or answers).
        correct: Each problem's per-sample correctness.
        k_list: The k values (an int for a single one).
        resamples: As in :func:`maj_at_k` (``None``: the first k samples).
        seed: Base seed of the draws.

    Returns:
        ``{"maj@1": ..., "maj@4": ...}`` in the order of ``k_list``.

    Raises:
        ValueError: If there are no problems, the lengths differ, or a problem has fewer than k samples.

    Example:
        >>> mean_maj_at_k([["4", "4", "5"], ["1", "2", "2"]], [[1, 1, 0], [1, 0, 0]], [1, 3], resamples=None)
        {'maj@1': 1.0, 'maj@3': 0.5}
    """
    ks = [k_list] if isinstance(k_list, numbers.Integral) else list(k_list)
    if not ks:
        raise ValueError("`k_list` is empty; give at least one k, for example [1, 8, 64].")
    labels, correct = list(labels), list(correct)
    if not labels:
        raise ValueError("maj@k needs at least one problem; `labels` is empty.")
    if len(correct) != len(labels):
        raise ValueError(f"Got answers for {len(labels)} problems but correctness for {len(correct)}.")
    result = {}
    for k in ks:
        values = []
        for index, (group, group_correct) in enumerate(zip(labels, correct)):
            rng = np.random.default_rng([seed, index, k])
            try:
                values.append(maj_at_k(group, group_correct, k, resamples, rng))
            except ValueError as err:
                raise ValueError(f"Problem {index}: {err}") from None
        result[f"maj@{k}"] = sum(values) / len(values)
    return result
