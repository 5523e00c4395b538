"""The records ``darling evaluate`` writes: one a prompt in ``samples.jsonl``, and their ``summary.json``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from darling.evaluation.data import EvalPrompt
from darling.evaluation.diversity import darling_diversity, distinct_n, embedding_diversity, self_bleu
from darling.evaluation.majority import answer_classes, extract_answer, mean_maj_at_k
from darling.evaluation.novelty import PROTOCOL_MAX_TOKENS_PER_TEXT, noveltybench_metrics
from darling.evaluation.passk import mean_pass_at_k
from darling.partitioning import diversity_scores

if TYPE_CHECKING:
    from darling.evaluation.runner import EvaluationConfig


def make_record(
    item: EvalPrompt,
    generations: list[str],
    scores: list | None,
    labels: list[int] | None,
    patience: float | None = None,
    protocol: str = "upstream",
    answers: list[str | None] | None = None,
) -> dict[str, Any]:
    """The ``samples.jsonl`` record of one prompt (``answers``: each generation's extracted answer)."""
    record: dict[str, Any] = {"id": item.id, "prompt": item.prompt}
    if item.answer is not None:
        record["answer"] = item.answer
    record["generations"] = generations
    if answers is not None:
        record["answers"] = answers
        record["answer_classes"] = answer_classes(answers)
    if scores is not None:
        record["scores"] = scores
    if labels is not None:
        record["partition"] = labels
        record["distinct"] = len(set(labels))
        record["diversity"] = diversity_scores(labels)
        if scores is not None and all(s is not None for s in scores):
            metrics = noveltybench_metrics(labels, scores, patience, protocol)
            record.update({key: value for key, value in metrics.items() if key != "distinct"})
    return record


def summarize(records: Sequence[dict[str, Any]], config: EvaluationConfig) -> dict[str, Any]:
    """The ``summary.json`` of finished per-prompt records."""
    summary: dict[str, Any] = {"num_prompts": len(records), "num_samples": config.num_samples}
    scored = [r for r in records if "scores" in r and all(s is not None for s in r["scores"])]
    if config.task == "math":
        summary["unscorable_prompts"] = len(records) - len(scored)
        if scored:
            correct = [sum(1 for s in r["scores"] if s > 0.5) for r in scored]
            summary["pass@k"] = mean_pass_at_k([len(r["scores"]) for r in scored], correct, config.k_list)
            summary["maj@k"] = mean_maj_at_k(
                [_answer_classes(r) for r in scored],
                [r["scores"] for r in scored],
                config.k_list,
                resamples=config.maj_resamples or None,
                seed=config.seed,
            )
    if scored:
        summary["mean_score"] = sum(sum(r["scores"]) / len(r["scores"]) for r in scored) / len(scored)
    partitioned = [r for r in records if "partition" in r]
    if partitioned:
        summary["mean_distinct"] = sum(r["distinct"] for r in partitioned) / len(partitioned)
        summary["mean_darling_diversity"] = sum(darling_diversity(r["partition"]) for r in partitioned) / len(
            partitioned
        )
        for key in ("utility", "quality"):
            values = [r[key] for r in partitioned if key in r]
            if values:
                summary[f"mean_{key}"] = sum(values) / len(values)
    summary["distinct_4"] = sum(distinct_n(r["generations"], 4) for r in records) / len(records)
    if config.num_samples >= 2:
        summary["self_bleu"] = sum(self_bleu(r["generations"]) for r in records) / len(records)
        if config.embedding_model:
            summary["embedding_diversity"] = sum(
                embedding_diversity(r["generations"], config.embedding_model) for r in records
            ) / len(records)
    summary["judge"] = config.judge
    summary["partition_mode"] = config.partition_mode
    if partitioned:
        summary["protocol"] = config.noveltybench_protocol
    tokens = config.max_tokens_per_text
    if tokens is None and config.protocol is not None and config.judge.lower().startswith("classifier:"):
        tokens = PROTOCOL_MAX_TOKENS_PER_TEXT[config.protocol]
    if tokens is not None:
        summary["max_tokens_per_text"] = tokens
    return summary


def _answer_classes(record: dict[str, Any]) -> list[int]:
    # Records written before answers were kept: extract them from the generations now.
    if "answer_classes" in record:
        return record["answer_classes"]
    return answer_classes(record.get("answers") or [extract_answer(g) for g in record["generations"]])
