"""Agreement of a judge with NoveltyBench's own partitions of real generations.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 python benchmarks/classifier_agreement.py --judge PATH

``--judge`` is a fitted :class:`~darling.partitioning.EmbeddingJudge` folder (``fit_embedding_judge.py``
writes one) or a :class:`~darling.classifier.PartitionClassifier` checkpoint.
``../shared/data/noveltybench/generations`` holds 200 groups of 10 generations with the partitions
NoveltyBench's DeBERTa-v3-large classifier gave them (threshold 0.102). For every pair inside a group,
this scores the judge (cosine or P(equivalent)) and compares it with "same class in NoveltyBench's
partition": ROC AUC, the share of pairs each calls equivalent, and the mean number of classes a group
gets (``greedy``, the way NoveltyBench partitions, and ``all_pairs``) at the judge's own threshold and
at the threshold that calls as many pairs equivalent as NoveltyBench does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from bench_io import GENERATIONS, Report, load_generations, load_judge
from darling.partitioning import partition
from darling.partitioning.pair_metrics import roc_auc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--judge", required=True, help="fitted EmbeddingJudge folder or PartitionClassifier checkpoint"
    )
    parser.add_argument("--data-dir", type=Path, default=GENERATIONS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report", type=Path, help="write the table and the command as Markdown here")
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"NoveltyBench generations not found at {args.data_dir}; put ../shared beside the checkout.")
        return 2
    torch.set_num_threads(args.threads)
    report = Report(__file__, argv)
    judge = load_judge(args.judge)
    groups, partitions = load_generations(args.data_dir)
    lookup: dict[tuple[str, str], float] = {}
    probs, same = [], []
    for texts, labels in zip(groups, partitions):
        index = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))]
        pairs = [(texts[i], texts[j]) for i, j in index]
        scores = judge.scores(pairs)
        for (a, b), p in zip(pairs, scores):
            lookup[(a, b)] = lookup[(b, a)] = float(p)
        probs += scores
        same += [int(labels[i] == labels[j]) for i, j in index]
    probs, same = np.array(probs), np.array(same)
    share = same.mean()
    matched = float(np.quantile(probs, 1 - share))
    rule = judge.short_text_rule

    def mean_classes(threshold: float, mode: str) -> float:
        """Partitions from the scores above (the judge's short-text rule)."""

        def judge_at(a: str, b: str) -> bool:
            return lookup[(a, b)] > threshold

        return float(
            np.mean([len(set(partition(t, judge_at, mode=mode, short_text_rule=rule))) for t in groups])
        )

    reference = float(np.mean([len(set(labels)) for labels in partitions]))
    report(
        f"Judge: {args.judge} ({type(judge).__name__}). {len(groups)} groups, {len(probs)} pairs; NoveltyBench calls "
        f"{share:.1%} of the pairs equivalent and gives a group {reference:.2f} classes on average (greedy)."
    )
    report()
    report(
        f"ROC AUC of the judge's score against NoveltyBench's same-class pairs: **{roc_auc(probs, same):.3f}**"
    )
    report()
    report("| threshold | pairs called equivalent | mean classes a group, greedy | mean classes, all_pairs |")
    report("|---|---|---|---|")
    own = judge.threshold
    for name, threshold in [
        (f"its own ({own:.3f})", own),
        (f"matched to NoveltyBench's share ({matched:.3f})", matched),
    ]:
        greedy, all_pairs = mean_classes(threshold, "greedy"), mean_classes(threshold, "all_pairs")
        report(f"| {name} | {(probs > threshold).mean():.1%} | {greedy:.2f} | {all_pairs:.2f} |")
    report.save(args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
