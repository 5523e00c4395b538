"""Partition cost on real NoveltyBench generations: darling against a one-pair-at-a-time loop.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/partition_cost.py --classifier PATH

For each of the 200 groups of 10 generations in ``../shared/data/noveltybench/generations``, both
modes are timed three ways with the same classifier:

- ``loop``: the references' way: every pair the mode needs goes to the model alone, one forward
  pass per pair (``all_pairs``: every one of the 45 pairs; ``greedy``: NoveltyBench's head loop),
  after the same short-text rule the references apply;
- ``exact``: :func:`darling.partitioning.partition_groups` (identical texts merged, pairs already joined
  skipped, one batched call per round for a step's worth of groups);
- ``approx``: the same with a :class:`~darling.partitioning.CascadeJudge`: a fast stage (``--fast``:
  the pretrained MiniLM bi-encoder's cosine, or unigram F1) settles clear-cut pairs, the classifier
  the rest. :func:`~darling.partitioning.calibrate_cascade` chooses its two cut-offs on
  ``--calibration-groups`` other groups (partition agreement at least ``--min-agreement`` with the
  classifier alone there); it is timed and scored on the same groups as the loop.

It prints pairs sent to the model per group (of 45), wall time and the ratio to the loop, and the
share of groups whose partition equals the loop's. Without ``--classifier`` it builds a MiniLM
cross-encoder with an untrained head (cost does not depend on the weights) and sets its threshold so
the share of pairs it calls equivalent matches the share of same-class pairs in NoveltyBench's own
partitions of these generations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from darling.classifier import PartitionClassifier, text_features
from darling.evaluation.io import get_list_field, iter_jsonl
from darling.partitioning import (
    CascadeJudge,
    EmbeddingJudge,
    LexicalJudge,
    calibrate_cascade,
    partition_groups,
    relabel,
    short_text_equivalent,
)
from darling.tiny_models import minilm_path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench" / "generations"


def load_groups(data_dir: Path) -> list[list[str]]:
    groups = []
    for path in sorted(data_dir.glob("*.jsonl")):
        for number, record in iter_jsonl(path):
            groups.append(get_list_field(record, "generations", f"{path}:{number}"))
    return groups


def same_class_share(data_dir: Path) -> float:
    """Share of pairs that NoveltyBench's own partitions put in the same class."""
    same = total = 0
    for path in sorted(data_dir.glob("*.jsonl")):
        for number, record in iter_jsonl(path):
            labels = get_list_field(record, "partition", f"{path}:{number}")
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
    parser.add_argument(
        "--max-tokens-per-text",
        type=int,
        default=None,
        help="per-text token budget (default: the checkpoint's own; 128, NoveltyBench's, without --classifier)",
    )
    parser.add_argument("--groups-per-call", type=int, default=8, help="groups partitioned together (a step)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--fast",
        choices=["embedding", "lexical"],
        default="embedding",
        help="approximate mode's fast stage: MiniLM bi-encoder cosine, or unigram F1 (no model)",
    )
    parser.add_argument(
        "--calibration-groups",
        type=int,
        default=50,
        help="groups (outside the timed ones) the cascade's cut-offs are chosen on",
    )
    parser.add_argument(
        "--min-agreement", type=float, default=0.97, help="partition agreement asked of the cut-offs"
    )
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
    timed = set(range(0, len(groups), step)[: args.groups])
    # The cascade's calibration groups: evenly spaced among the others, never timed or scored.
    rest = [i for i in range(len(groups)) if i not in timed]
    calib_step = max(1, len(rest) // max(1, args.calibration_groups))
    calib = [groups[i] for i in rest[::calib_step][: args.calibration_groups]]
    groups = [groups[i] for i in sorted(timed)]

    if args.classifier:
        overrides = {"max_tokens_per_text": args.max_tokens_per_text} if args.max_tokens_per_text else {}
        clf = PartitionClassifier.from_pretrained(args.classifier, **overrides)
        name = args.classifier
    else:
        clf = PartitionClassifier.from_encoder(
            minilm_path(), max_tokens_per_text=args.max_tokens_per_text or 128
        )
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

    # Approximate mode: cut-offs chosen on the calibration groups, timed and scored on the timed ones.
    if args.fast == "lexical":
        fast = LexicalJudge()
    else:
        from sentence_transformers import SentenceTransformer

        fast = EmbeddingJudge(
            SentenceTransformer(minilm_path(), device="cpu"), max_seq_length=clf.config.max_tokens_per_text
        )
    for mode in ("all_pairs", "greedy"):
        loop, loop_times = loop_by_mode[mode]
        loop_labels = [labels for labels, _ in loop]
        t_loop, t_exact = sum(loop_times), results["modes"][mode]["exact_seconds"]
        if not calib:
            print(f"[{mode}] no groups left to calibrate the cascade on; approximate mode skipped")
            continue
        calibrated = calibrate_cascade(
            fast, clf.as_judge(batch_size=args.batch_size), calib, mode=mode, min_agreement=args.min_agreement
        )
        low, high = calibrated.low, calibrated.high
        cal = calibrated.calibration
        print(
            f"[{mode}] cascade cut-offs from {len(calib)} groups: low {low:.3f}, high {high:.3f} "
            f"(agreement there {cal.agreement:.0%}, {cal.exact_pairs_per_group:.1f} of "
            f"{cal.reference_pairs_per_group:.1f} pairs a group to the classifier)"
        )
        if hasattr(fast, "clear_cache"):
            fast.clear_cache()
        cascade = CascadeJudge(fast, fresh_judge(), low=low, high=high)
        approx, t_approx = timed_partition(groups, cascade, mode, args.groups_per_call)
        classifier_pairs = cascade.exact_pairs_total / len(groups)
        same_approx = sum(r.labels == ref for r, ref in zip(approx, loop_labels)) / len(groups)
        row = results["modes"][mode]
        row.update(
            approx_groups=len(groups),
            calibration_groups=len(calib),
            approx_seconds=t_approx,
            approx_speedup_vs_loop=t_loop / t_approx,
            approx_speedup_vs_exact=t_exact / t_approx,
            approx_same_partition=same_approx,
            approx_pairs_per_group=sum(r.judged_pairs for r in approx) / len(groups),
            approx_classifier_pairs_per_group=classifier_pairs,
            cascade_low=low,
            cascade_high=high,
            fast_stage=args.fast,
        )
        print(
            f"[{mode}] approx on the {len(groups)} timed groups: {t_approx:.1f}s, {row['approx_speedup_vs_loop']:.2f}x vs "
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
