"""Evaluation: pass@k, maj@k, NoveltyBench metrics (v1.0 under two protocols, and metric v1.1), cheap diversity measures and the runner.

Helpers behind them (JSONL reading, protocol tables, per-problem pass@k, ...) stay in their modules:
:mod:`darling.evaluation.io`, :mod:`~darling.evaluation.novelty`, :mod:`~darling.evaluation.passk`, ...
"""

from darling._lazy import lazy_exports

# Public name -> its module; each is imported on first use (the command line stays quick to start).
_EXPORTS = {
    **dict.fromkeys(
        ["darling_diversity", "distinct_n", "embedding_diversity", "self_bleu"],
        "darling.evaluation.diversity",
    ),
    "load_judge": "darling.evaluation.judge_spec",
    **dict.fromkeys(
        ["answer_classes", "extract_answer", "maj_at_k", "majority_vote", "mean_maj_at_k"],
        "darling.evaluation.majority",
    ),
    **dict.fromkeys(
        [
            "credited_scores",
            "distinct",
            "noveltybench_metrics",
            "noveltybench_summary",
            "quality",
            "utility",
        ],
        "darling.evaluation.novelty",
    ),
    **dict.fromkeys(["mean_pass_at_k", "pass_at_k"], "darling.evaluation.passk"),
    **dict.fromkeys(["EvaluationConfig", "run_evaluation"], "darling.evaluation.runner"),
    # NoveltyBench metric v1.1
    **dict.fromkeys(
        ["ChatEndpoint", "HeadScorer", "SetLevelPartitioner"], "darling.evaluation.novelty_judges"
    ),
    **dict.fromkeys(["load_judge_prompts"], "darling.evaluation.novelty_prompts"),
    **dict.fromkeys(["run_v11", "summarize_dir"], "darling.evaluation.novelty_v11_run"),
    **dict.fromkeys(["push_results", "write_submission"], "darling.evaluation.submission"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


def load_metric(name: str, **kwargs):
    """Loads one of darling's Hugging Face ``evaluate`` modules from inside the package (offline).

    Args:
        name: One of :data:`darling.metrics.METRIC_NAMES` (``"pass_at_k"``, ``"noveltybench"``, ...).
        **kwargs: Passed to ``evaluate.load``.

    Returns:
        The ``evaluate`` module.

    Example:
        >>> metric = load_metric("pass_at_k")
        >>> metric.compute(predictions=[[1, 0], [0, 0]], k=[1])
        {'pass@1': 0.25}
    """
    import evaluate

    from darling.metrics import path

    return evaluate.load(path(name), **kwargs)


__all__ = [
    "ChatEndpoint",
    "EvaluationConfig",
    "HeadScorer",
    "SetLevelPartitioner",
    "answer_classes",
    "credited_scores",
    "darling_diversity",
    "distinct",
    "distinct_n",
    "embedding_diversity",
    "extract_answer",
    "load_judge",
    "load_judge_prompts",
    "load_metric",
    "maj_at_k",
    "majority_vote",
    "mean_maj_at_k",
    "mean_pass_at_k",
    "noveltybench_metrics",
    "noveltybench_summary",
    "pass_at_k",
    "push_results",
    "quality",
    "run_evaluation",
    "run_v11",
    "self_bleu",
    "summarize_dir",
    "utility",
    "write_submission",
]
