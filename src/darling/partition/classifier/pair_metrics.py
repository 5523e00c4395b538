"""Metrics of pair predictions: ROC AUC, balanced accuracy and the threshold that maximizes it.

Plain numpy (no scikit-learn): the partition package stays light.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve: P(a random positive scores above a random negative), ties count 1/2.

    Args:
        scores: Higher means more likely positive.
        labels: 0/1 labels.

    Returns:
        The AUC, or ``nan`` when only one class is present.

    Example:
        >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        0.75
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in length: {s.shape[0]} vs {y.shape[0]}.")
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    # Mann-Whitney U from average ranks (ties share their mean rank).
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    start = 0
    while start < len(s):
        end = start
        while end + 1 < len(s) and sorted_s[end + 1] == sorted_s[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def balanced_accuracy(predictions: Sequence[int], labels: Sequence[int]) -> float:
    """Mean of the recall on each class (``nan`` when a class is absent from ``labels``)."""
    p = np.asarray(predictions).astype(bool)
    y = np.asarray(labels).astype(bool)
    if y.all() or not y.any():
        return float("nan")
    return float(((p & y).sum() / y.sum() + (~p & ~y).sum() / (~y).sum()) / 2)


def choose_threshold(probabilities: Sequence[float], labels: Sequence[int]) -> float:
    """The threshold maximizing balanced accuracy of ``P(equivalent) > threshold``.

    Candidates are midpoints between consecutive distinct probabilities (and 0), so the chosen
    value separates the scores instead of sitting on one. Ties go to the candidate nearest 0.5.

    Example:
        >>> choose_threshold([0.1, 0.2, 0.3, 0.9], [0, 0, 1, 1])
        0.25
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels).astype(bool)
    if y.all() or not y.any():
        raise ValueError("choose_threshold needs both equivalent and non-equivalent pairs in the dev split.")
    values = np.unique(p)
    candidates = np.concatenate([[max(0.0, values[0] / 2)], (values[:-1] + values[1:]) / 2])
    best, best_score = 0.5, -1.0
    for t in candidates:
        score = balanced_accuracy(p > t, y)
        if score > best_score + 1e-12 or (
            abs(score - best_score) <= 1e-12 and abs(t - 0.5) < abs(best - 0.5)
        ):
            best, best_score = float(t), score
    return best


def pair_metrics(probabilities: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, float]:
    """Accuracy, balanced accuracy (at ``P > threshold``) and ROC AUC of pair predictions."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels).astype(int)
    predictions = (p > threshold).astype(int)
    return {
        "accuracy": float((predictions == y).mean()),
        "balanced_accuracy": balanced_accuracy(predictions, y),
        "roc_auc": roc_auc(p, y),
    }
