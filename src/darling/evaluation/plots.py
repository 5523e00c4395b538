"""Plots of an evaluation run (matplotlib, headless ``Agg`` backend; the ``plots`` extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path

MISSING_MATPLOTLIB = (
    "Plots need matplotlib, which the core install leaves out: pip install 'darling-rl[plots]', or turn the "
    "plots off (darling evaluate --no-plots, EvaluationConfig(plots=False))."
)


def check_plotting() -> None:
    """Raises a clear ``ImportError`` naming the ``plots`` extra when matplotlib is not installed."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ImportError(MISSING_MATPLOTLIB)


def _pyplot():
    check_plotting()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pass_at_k(pass_at_k: Mapping[str, float], path: str | Path, title: str = "pass@k") -> Path:
    """Saves the pass@k curve (k on a log2 axis) of ``{"pass@1": ..., "pass@8": ...}`` to ``path``."""
    plt = _pyplot()
    points = sorted((int(key.split("@")[1]), value) for key, value in pass_at_k.items())
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([k for k, _ in points], [100 * v for _, v in points], marker="o")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k")
    ax.set_ylabel("pass@k (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_distinct_histogram(
    distinct: Sequence[int], path: str | Path, num_samples: int | None = None
) -> Path:
    """Saves a histogram of the number of classes per prompt to ``path``."""
    plt = _pyplot()
    top = num_samples or max(distinct, default=1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(list(distinct), bins=[b - 0.5 for b in range(1, top + 2)], rwidth=0.85)
    ax.set_xlabel("distinct (classes a prompt)")
    ax.set_ylabel("prompts")
    ax.set_title("NoveltyBench distinct")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
