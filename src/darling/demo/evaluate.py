"""Scoring a policy on the held-out targets: pass@k, distinct correct answers, coverage, distinct.

The evaluation always uses the task's ground truth (the checker and the canonical form), whatever
judge trained the policy, so the three policies are measured with the same ruler.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch

from darling.demo.policy import sample
from darling.demo.task import CanonicalFormJudge, SumTask
from darling.evaluation.passk import pass_at_k
from darling.partitioning import CallableJudge, partition

NOVELTYBENCH_K = 10
TOP_SAMPLES = 3


@dataclass
class EvalSettings:
    """How a policy is sampled for evaluation.

    Attributes:
        num_samples: Samples per held-out prompt (``n`` of the unbiased pass@k estimator).
        k_max: pass@k is reported for k = 1..k_max; distinct correct answers count the first
            ``k_max`` samples.
        temperature: Sampling temperature.
        seed: Seed of the sampling RNG (the same for every policy).
    """

    num_samples: int = 32
    k_max: int = 16
    temperature: float = 1.0
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.k_max < 1 or self.num_samples < max(self.k_max, NOVELTYBENCH_K):
            raise ValueError(
                f"Evaluation needs 1 <= k_max <= num_samples and num_samples >= {NOVELTYBENCH_K}, got "
                f"num_samples={self.num_samples}, k_max={self.k_max}; raise num_samples."
            )


def score_samples(task: SumTask, targets: list[int], samples: list[list[str]], k_max: int) -> dict:
    """Metrics of given samples, averaged over targets.

    Args:
        task: The task (checker and canonical form).
        targets: The target of each prompt.
        samples: The samples of each prompt, all lists of the same length ``n >= k_max``.
        k_max: Largest k of pass@k; distinct correct answers count the first ``k_max`` samples.

    Returns:
        A dict with ``pass@k`` (list for k = 1..k_max), ``accuracy``, ``distinct_correct``,
        ``coverage``, ``distinct`` (NoveltyBench-style: classes among the first 10 samples, greedy
        partition) and ``per_target`` details (with the correct answers found and the most frequent
        samples, right or wrong).
    """
    if len(targets) != len(samples) or not targets:
        raise ValueError(
            f"Need one non-empty sample list per target, got {len(targets)} targets, {len(samples)} lists."
        )
    judge = CallableJudge(CanonicalFormJudge(task), short_text_rule="off")
    per_target = []
    for target, texts in zip(targets, samples):
        n = len(texts)
        correct = [task.is_correct(target, t) for t in texts]
        c = sum(correct)
        first_k = {task.canonical(t) for t, ok in zip(texts[:k_max], correct[:k_max]) if ok}
        found = {task.canonical(t) for t, ok in zip(texts, correct) if ok}
        labels = partition(texts[:NOVELTYBENCH_K], judge, mode="greedy")
        per_target.append(
            {
                "target": target,
                "num_samples": n,
                "num_correct": c,
                "pass@k": [pass_at_k(n, c, k) for k in range(1, k_max + 1)],
                "distinct_correct": len(first_k),
                "coverage": len(found) / len(task.valid_answers(target)),
                "distinct": len(set(labels)),
                "answers": sorted(found),
                "top_samples": Counter(texts).most_common(TOP_SAMPLES),
            }
        )
    m = len(per_target)
    return {
        "pass@k": [sum(p["pass@k"][k] for p in per_target) / m for k in range(k_max)],
        "accuracy": sum(p["num_correct"] / p["num_samples"] for p in per_target) / m,
        "distinct_correct": sum(p["distinct_correct"] for p in per_target) / m,
        "coverage": sum(p["coverage"] for p in per_target) / m,
        "distinct": sum(p["distinct"] for p in per_target) / m,
        "per_target": per_target,
    }


def evaluate_policy(
    model, tokenizer, task: SumTask, settings: EvalSettings, targets: list[int] | None = None
) -> dict:
    """Samples the policy on the held-out targets and scores the samples.

    Args:
        model: The policy.
        tokenizer: Its tokenizer.
        task: The task.
        settings: Sampling settings.
        targets: Targets to evaluate on; the task's held-out targets when ``None``.

    Returns:
        The dict of :func:`score_samples`.
    """
    targets = list(task.held_out if targets is None else targets)
    torch.manual_seed(settings.seed)
    samples = sample(
        model,
        tokenizer,
        [task.prompt(t) for t in targets],
        settings.num_samples,
        temperature=settings.temperature,
    )
    return score_samples(task, targets, samples, settings.k_max)
