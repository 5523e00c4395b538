"""Agreement of a partition classifier with NoveltyBench's own partitions of real generations.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/classifier_agreement.py --classifier PATH

``../shared/data/noveltybench/generations`` holds 200 groups of 10 generations with the partitions
NoveltyBench's DeBERTa-v3-large classifier gave them (threshold 0.102). For every pair inside a group,
this scores P(equivalent) with the given classifier and compares it with "same class in
NoveltyBench's partition": ROC AUC, the share of pairs each calls equivalent, and the mean number of
classes a group gets (``greedy``, the way NoveltyBench partitions, and ``all_pairs``) at the
classifier's own threshold and at the threshold that calls as many pairs equivalent as NoveltyBench
does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from darling.classifier import PartitionClassifier
from darling.classifier.training import roc_auc
from darling.evaluation.io import get_list_field, iter_jsonl
from darling.partitioning import partition

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench" / "generations"


def load_groups(data_dir: Path) -> list[tuple[list[str], list[int]]]:
    groups = []
    for path in sorted(data_dir.glob("*.jsonl")):
        for number, record in iter_jsonl(path):
            where = f"{path}:{number}"
            groups.append(
                (get_list_field(record, "generations", where), get_list_field(record, "partition", where))
            )
    return groups


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--classifier", required=True, help="darling PartitionClassifier checkpoint")
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"NoveltyBench generations not found at {args.data_dir}; put ../shared beside the checkout.")
        return 2
    torch.set_num_threads(args.threads)
    clf = PartitionClassifier.from_pretrained(args.classifier)
    groups = load_groups(args.data_dir)
    judge = clf.as_judge(show_progress=False)
    probs, same, index = [], [], []
    for g, (texts, labels) in enumerate(groups):
        pairs = [(i, j) for i in range(len(texts)) for j in range(i + 1, len(texts))]
        probs += judge.scores([(texts[i], texts[j]) for i, j in pairs])
        same += [int(labels[i] == labels[j]) for i, j in pairs]
        index += [g] * len(pairs)
        judge.clear_cache()
    probs, same = np.array(probs), np.array(same)
    share = same.mean()
    matched = float(np.quantile(probs, 1 - share))

    lookup: dict[tuple[str, str], float] = {}
    for g, (texts, _) in enumerate(groups):
        pairs = [(texts[i], texts[j]) for i in range(len(texts)) for j in range(i + 1, len(texts))]
        for (a, b), p in zip(pairs, probs[np.array(index) == g]):
            lookup[(a, b)] = lookup[(b, a)] = float(p)
    rule = clf.config.short_text_rule

    def mean_distinct(threshold: float, mode: str) -> float:
        """Partitions from the scores above (same short-text rule as the classifier)."""

        def judge_at(a: str, b: str) -> bool:
            return lookup[(a, b)] > threshold

        return float(
            np.mean([len(set(partition(t, judge_at, mode=mode, short_text_rule=rule))) for t, _ in groups])
        )

    reference = float(np.mean([len(set(labels)) for _, labels in groups]))
    own = clf.config.threshold
    print(f"{len(groups)} groups, {len(probs)} pairs; NoveltyBench calls {share:.1%} of pairs equivalent")
    print(f"ROC AUC of P(equivalent) against NoveltyBench's same-class pairs: {roc_auc(probs, same):.3f}")
    print(f"mean classes a group in NoveltyBench's partitions (greedy): {reference:.2f}")
    print("| threshold | pairs called equivalent | mean classes a group, greedy | mean classes, all_pairs |")
    print("|---|---|---|---|")
    for name, threshold in [(f"own ({own:.3f})", own), (f"share-matched ({matched:.3f})", matched)]:
        greedy, all_pairs = mean_distinct(threshold, "greedy"), mean_distinct(threshold, "all_pairs")
        print(f"| {name} | {(probs > threshold).mean():.1%} | {greedy:.2f} | {all_pairs:.2f} |")
    print("command:", " ".join(["python", *sys.argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
