"""Evaluation: pass@k, maj@k, NoveltyBench metrics (v1.0 under two protocols, and metric v1.1), cheap diversity measures and the runner."""

from darling._lazy import lazy_exports

# Public name -> its module; each is imported on first use (the command line stays quick to start).
_EXPORTS = {
    **dict.fromkeys(
        ["darling_diversity", "distinct_n", "embedding_diversity", "self_bleu", "whitespace_tokenize"],
        "darling.evaluation.diversity",
    ),
    **dict.fromkeys(["JsonlError", "read_jsonl"], "darling.evaluation.io"),
    **dict.fromkeys(["JUDGE_SPECS", "load_judge"], "darling.evaluation.judge_spec"),
    **dict.fromkeys(
        ["answer_classes", "extract_answer", "maj_at_k", "majority_vote", "mean_maj_at_k"],
        "darling.evaluation.majority",
    ),
    **dict.fromkeys(
        [
            "NOVELTYBENCH_PROTOCOLS",
            "PROTOCOL_MAX_TOKENS_PER_TEXT",
            "check_protocol",
            "credited_scores",
            "distinct",
            "noveltybench_metrics",
            "noveltybench_summary",
            "quality",
            "utility",
        ],
        "darling.evaluation.novelty",
    ),
    **dict.fromkeys(
        ["count_correct", "mean_pass_at_k", "pass_at_k", "pass_at_k_per_problem"], "darling.evaluation.passk"
    ),
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
    "JUDGE_SPECS",
    "NOVELTYBENCH_PROTOCOLS",
    "PROTOCOL_MAX_TOKENS_PER_TEXT",
    "ChatEndpoint",
    "EvaluationConfig",
    "HeadScorer",
    "JsonlError",
    "SetLevelPartitioner",
    "answer_classes",
    "check_protocol",
    "count_correct",
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
    "pass_at_k_per_problem",
    "push_results",
    "quality",
    "read_jsonl",
    "run_evaluation",
    "run_v11",
    "self_bleu",
    "summarize_dir",
    "utility",
    "whitespace_tokenize",
    "write_submission",
]
