"""Partition cost on real NoveltyBench generations: darling against a one-pair-at-a-time loop.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/partition_cost.py --classifier PATH

For each of the 200 groups of 10 generations in ``../shared/data/noveltybench/generations``, both
modes are timed three ways with the same classifier:

- ``loop``: the references' way: every pair the mode needs goes to the model alone, one forward
  pass per pair (``all_pairs``: every one of the 45 pairs; ``greedy``: NoveltyBench's head loop),
  after the same short-text rule the references apply;
- ``exact``: :func:`darling.partition.partition_groups` (identical texts merged, pairs already joined
  skipped, one batched call per round for a step's worth of groups);
- ``approx``: the same with a :class:`~darling.partition.CascadeJudge`: the pretrained MiniLM
  bi-encoder's cosine settles clear-cut pairs, the classifier the rest. Its two cut-offs are
  chosen on the first half of the groups and measured on the second half.

It prints pairs sent to the model per group (of 45), wall time and the ratio to the loop, and the
share of groups whose partition equals the loop's. Without ``--classifier`` it builds a MiniLM
cross-encoder with an untrained head (cost does not depend on the weights) and sets its threshold so
the share of pairs it calls equivalent matches the share of same-class pairs in NoveltyBench's own
partitions of these generations.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from darling.partition import CascadeJudge, EmbeddingJudge, partition_groups, relabel, short_text_equivalent
from darling.partition.classifier import PartitionClassifier, text_features
from darling.testing import minilm_path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench" / "generations"


def load_groups(data_dir: Path) -> list[list[str]]:
    groups = []
    for path in sorted(data_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            gens = record["generations"]
            groups.append(json.loads(gens) if isinstance(gens, str) else gens)
    return groups


def same_class_share(data_dir: Path) -> float:
    """Share of pairs that NoveltyBench's own partitions put in the same class."""
    same = total = 0
    for path in sorted(data_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            labels = json.loads(line)["partition"]
            labels = json.loads(labels) if isinstance(labels, str) else labels
            n = len(labels)
            total += n * (n - 1) // 2
            same += sum(labels[i] == labels[j] for i in range(n) for j in range(i + 1, n))
    return same / total


def timed_partition(groups, judge, mode, groups_per_call):
    """darling's partitioning, a step's worth of groups per call; returns (results, seconds)."""
    start = time.perf_counter()
    results = []
    for s in range(0, len(groups), groups_per_call):
        results += partition_groups(groups[s : s + groups_per_call], judge, mode=mode)
    return results, time.perf_counter() - start


def loop_partition(texts, prob, threshold, rule, mode):
    """The references' loop: one model call per pair, in order."""
    sent = 0

    def same(i, j):
        nonlocal sent
        decided = short_text_equivalent(texts[i], texts[j], rule)
        if decided is not None:
            return decided
        sent += 1
        return prob(texts[i], texts[j]) > threshold

    n = len(texts)
    if mode == "all_pairs":
        parent = list(range(n))

        def find(i):
            while parent[i] != i:
                i = parent[i]
            return i

        for i in range(n):
            for j in range(i + 1, n):
                if same(i, j):
                    parent[find(j)] = find(i)
        return relabel([find(i) for i in range(n)]), sent
    labels = [-1] * n
    k = 0
    for i in range(n):
        if labels[i] >= 0:
            continue
        labels[i] = k
        for j in range(i + 1, n):
            if labels[j] == -1 and same(i, j):
                labels[j] = k
        k += 1
    return labels, sent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--classifier", help="darling PartitionClassifier checkpoint (default: untrained MiniLM)"
    )
    parser.add_argument("--data-dir", type=Path, default=DATA)
    parser.add_argument("--groups", type=int, default=200, help="evenly spaced groups to use (of 200)")
    parser.add_argument("--max-tokens-per-text", type=int, default=128)
    parser.add_argument("--groups-per-call", type=int, default=8, help="groups partitioned together (a step)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--calibration-pairs", type=int, default=300)
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"NoveltyBench generations not found at {args.data_dir}; put ../shared beside the checkout.")
        return 2
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    groups = load_groups(args.data_dir)
    # An evenly spaced subset, so both models' generations are represented.
    step = max(1, len(groups) // args.groups)
    groups = groups[::step][: args.groups]

    if args.classifier:
        clf = PartitionClassifier.from_pretrained(
            args.classifier, max_tokens_per_text=args.max_tokens_per_text
        )
        name = args.classifier
    else:
        clf = PartitionClassifier.from_encoder(minilm_path(), max_tokens_per_text=args.max_tokens_per_text)
        # Untrained head: set the threshold so the share of equivalent pairs matches the share of
        # same-class pairs in NoveltyBench's own partitions of these generations.
        share = same_class_share(args.data_dir)
        sample = [(g[i], g[i + 1]) for g in groups[:20] for i in range(0, 9, 2)]
        scores = sorted(clf.predict_proba(sample))
        clf.config.threshold = scores[min(len(scores) - 1, int((1 - share) * len(scores)))]
        name = f"MiniLM cross-encoder, untrained head, threshold at {share:.0%} equivalent pairs"
    clf.eval()
    threshold, rule = clf.config.threshold, clf.config.short_text_rule

    def fresh_judge():
        """A new judge with nothing cached, so every timed run pays for its own encoding."""
        text_features.clear_cache()
        return clf.as_judge(batch_size=args.batch_size)

    def prob(a, b):
        return clf.predict_proba([(a, b)])[0]

    print(f"classifier: {name} (threshold {threshold:.4f}, {clf.config.max_tokens_per_text} tokens a text)")
    print(f"groups: {len(groups)} of {len(groups[0])} generations; torch threads {torch.get_num_threads()}")
    results = {"classifier": name, "groups": len(groups), "modes": {}}
    loop_by_mode = {}
    for mode in ("all_pairs", "greedy"):
        loop, loop_times = [], []
        text_features.clear_cache()
        for g in tqdm(groups, desc=f"loop {mode}"):
            start = time.perf_counter()
            loop.append(loop_partition(g, prob, threshold, rule, mode))
            loop_times.append(time.perf_counter() - start)
        t_loop = sum(loop_times)
        loop_by_mode[mode] = (loop, loop_times)
        loop_labels = [labels for labels, _ in loop]

        exact, t_exact = timed_partition(groups, fresh_judge(), mode, args.groups_per_call)
        same_exact = sum(r.labels == ref for r, ref in zip(exact, loop_labels)) / len(groups)

        row = {
            "loop_pairs_per_group": sum(sent for _, sent in loop) / len(groups),
            "loop_seconds": t_loop,
            "exact_pairs_per_group": sum(r.judged_pairs for r in exact) / len(groups),
            "exact_seconds": t_exact,
            "exact_speedup": t_loop / t_exact,
            "exact_same_partition": same_exact,
        }
        results["modes"][mode] = row
        print(
            f"[{mode}] loop: {row['loop_pairs_per_group']:.1f} pairs/group, {t_loop:.1f}s | exact: "
            f"{row['exact_pairs_per_group']:.1f} pairs/group, {t_exact:.1f}s, speed-up {row['exact_speedup']:.2f}x, "
            f"same partition {same_exact:.1%}"
        )

    # Approximate mode: calibrate the cascade's cut-offs on the first half, measure on the second.
    from sentence_transformers import SentenceTransformer

    fast = EmbeddingJudge(
        SentenceTransformer(minilm_path(), device="cpu"), max_seq_length=args.max_tokens_per_text
    )
    half = len(groups) // 2
    calib, test = groups[:half], groups[half:]
    pairs = [(g[i], g[j]) for g in calib for i in range(len(g)) for j in range(i + 1, len(g)) if g[i] != g[j]]
    random.Random(0).shuffle(pairs)
    pairs = pairs[: args.calibration_pairs]
    cos = fast.scores(pairs)
    same = [p > threshold for p in clf.predict_proba(pairs, batch_size=args.batch_size)]
    print(f"cascade cut-offs from {len(pairs)} calibration pairs of {half} groups")
    pos = sorted(c for c, s in zip(cos, same) if s)
    neg = sorted(c for c, s in zip(cos, same) if not s)
    # Cut-offs that misplace at most 1% of the calibration pairs on either side.
    low = pos[int(0.01 * len(pos))] - 1e-6 if pos else 1.0
    high = neg[min(len(neg) - 1, int(0.99 * len(neg)))] if neg else -1.0
    low, high = min(low, high), max(low, high)
    print(f"cascade cut-offs: low {low:.3f}, high {high:.3f}")
    for mode in ("all_pairs", "greedy"):
        loop, loop_times = loop_by_mode[mode]
        loop_test = [labels for labels, _ in loop[half:]]
        t_loop = sum(loop_times[half:])
        _, t_exact = timed_partition(test, fresh_judge(), mode, args.groups_per_call)
        fast.clear_cache()
        cascade = CascadeJudge(fast, fresh_judge(), low=low, high=high)
        approx, t_approx = timed_partition(test, cascade, mode, args.groups_per_call)
        classifier_pairs = cascade.exact_pairs_total / len(test)
        same_approx = sum(r.labels == ref for r, ref in zip(approx, loop_test)) / len(test)
        row = results["modes"][mode]
        row.update(
            approx_groups=len(test),
            approx_seconds=t_approx,
            approx_speedup_vs_loop=t_loop / t_approx,
            approx_speedup_vs_exact=t_exact / t_approx,
            approx_same_partition=same_approx,
            approx_pairs_per_group=sum(r.judged_pairs for r in approx) / len(test),
            approx_classifier_pairs_per_group=classifier_pairs,
            cascade_low=low,
            cascade_high=high,
        )
        print(
            f"[{mode}] approx on {len(test)} held-out groups: {t_approx:.1f}s, {row['approx_speedup_vs_loop']:.2f}x vs "
            f"loop, {row['approx_speedup_vs_exact']:.2f}x vs exact, same partition {same_approx:.1%}; "
            f"{row['approx_pairs_per_group']:.1f} pairs/group judged, {classifier_pairs:.1f} of them by the classifier"
        )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2))
        print(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
