"""Metrics of pair predictions (ROC AUC, balanced accuracy) and the threshold that maximizes the latter.

Thin wrappers over scikit-learn that name what a judge's fit and a classifier's training report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _arrays(scores: Sequence[float], labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(int)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in length: {s.shape[0]} vs {y.shape[0]}.")
    return s, y


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve of ``scores`` for the 0/1 ``labels`` (``nan`` when one class is absent).

    Example:
        >>> roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        0.75
    """
    from sklearn.metrics import roc_auc_score

    s, y = _arrays(scores, labels)
    if y.min(initial=0) == y.max(initial=0):
        return float("nan")
    return float(roc_auc_score(y, s))


def balanced_accuracy(predictions: Sequence[int], labels: Sequence[int]) -> float:
    """Mean of the recall of each class (``nan`` when a class is absent from ``labels``).

    Example:
        >>> balanced_accuracy([1, 0, 0, 0], [1, 1, 0, 0])
        0.75
    """
    from sklearn.metrics import balanced_accuracy_score

    p, y = _arrays(predictions, labels)
    if y.min(initial=0) == y.max(initial=0):
        return float("nan")
    return float(balanced_accuracy_score(y, p.astype(int)))


def choose_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The threshold maximizing balanced accuracy of ``score > threshold``.

    Candidates are midpoints between consecutive distinct scores (and half the lowest), so the chosen
    value separates the scores instead of sitting on one. Ties go to the candidate nearest 0.5.

    Example:
        >>> choose_threshold([0.1, 0.2, 0.3, 0.9], [0, 0, 1, 1])
        0.25
    """
    s, y = _arrays(scores, labels)
    if y.min(initial=0) == y.max(initial=0):
        raise ValueError("choose_threshold needs both equivalent and non-equivalent pairs.")
    values = np.unique(s)
    candidates = np.concatenate([[max(0.0, values[0] / 2)], (values[:-1] + values[1:]) / 2])
    positives, negatives = np.sort(s[y == 1]), np.sort(s[y == 0])
    # Share of each class at or below each candidate, by binary search: O(n log n).
    recall = 1.0 - np.searchsorted(positives, candidates, side="right") / len(positives)
    specificity = np.searchsorted(negatives, candidates, side="right") / len(negatives)
    balanced = (recall + specificity) / 2
    best = np.flatnonzero(balanced >= balanced.max() - 1e-12)
    return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])


def pair_metrics(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, float]:
    """Accuracy and balanced accuracy of ``score > threshold``, and the ROC AUC of the scores.

    Example:
        >>> pair_metrics([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], threshold=0.3)
        {'accuracy': 0.75, 'balanced_accuracy': 0.75, 'roc_auc': 0.75}
    """
    s, y = _arrays(scores, labels)
    predictions = (s > threshold).astype(int)
    return {
        "accuracy": float((predictions == y).mean()),
        "balanced_accuracy": balanced_accuracy(predictions, y),
        "roc_auc": roc_auc(s, y),
    }
