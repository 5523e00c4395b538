"""Hugging Face ``evaluate`` modules of darling's metrics, shipped inside the package.

Each metric lives in ``darling/metrics/<name>/<name>.py`` and loads offline from its local path::

    import evaluate
    from darling import metrics

    pass_at_k = evaluate.load(metrics.path("pass_at_k"))
    pass_at_k.compute(predictions=[[1, 0, 0, 1], [0, 0, 0, 0]], k=[1, 2])

or in one step with :func:`darling.evaluation.load_metric`.
"""

from __future__ import annotations

from pathlib import Path

METRIC_NAMES: tuple[str, ...] = (
    "darling_diversity",
    "distinct_n",
    "embedding_diversity",
    "maj_at_k",
    "noveltybench",
    "pass_at_k",
    "self_bleu",
)


def path(name: str) -> str:
    """Local directory of the ``evaluate`` module ``name``, for ``evaluate.load(path(name))``.

    Raises:
        ValueError: For an unknown metric, listing the known ones.
    """
    if name not in METRIC_NAMES:
        raise ValueError(f"Unknown darling metric {name!r}; choose one of {', '.join(METRIC_NAMES)}.")
    return str(Path(__file__).resolve().parent / name)


__all__ = ["METRIC_NAMES", "path"]
