"""Partition cost on real NoveltyBench generations: darling against a one-pair-at-a-time loop.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 python benchmarks/partition_cost.py --judge PATH --groups 24

``--judge`` is a fitted :class:`~darling.partitioning.EmbeddingJudge` folder (``fit_embedding_judge.py``
writes one) or a :class:`~darling.classifier.PartitionClassifier` checkpoint. For each of the 200
groups of 10 generations in ``../shared/data/noveltybench/generations`` (or ``--groups`` evenly spaced
ones), both modes are timed three ways with the same judge:

- ``loop``: the references' way: every pair the mode needs goes to the model alone, both texts
  encoded again for every pair (``all_pairs``: every one of the 45 pairs; ``greedy``:
  NoveltyBench's head loop), after the same short-text rule the references apply;
- ``exact``: :func:`darling.partitioning.partition_groups` (identical texts merged, pairs already joined
  skipped, one batched call per round for a step's worth of groups);
- ``approx``: the same with a :class:`~darling.partitioning.CascadeJudge`: a fast stage (``--fast``:
  the pretrained MiniLM bi-encoder's cosine, or unigram F1) settles clear-cut pairs, the judge
  the rest. :func:`~darling.partitioning.calibrate_cascade` chooses its two cut-offs on
  ``--calibration-groups`` other groups (partition agreement at least ``--min-agreement`` with the
  judge alone there); it is timed and scored on the same groups as the loop.

The three take turns on each ``--groups-per-call`` groups, so a change in the machine's load hits
them alike. It prints pairs sent to the model per group (of 45), wall time and the ratio to the loop, and the
share of groups whose partition equals the loop's. Without ``--judge`` it builds a MiniLM
cross-encoder with an untrained head (cost does not depend on the weights) and sets its threshold so
the share of pairs it calls equivalent matches the share of same-class pairs in NoveltyBench's own
partitions of these generations. ``--calibration-groups 0`` skips approximate mode.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from bench_io import GENERATIONS, Report, load_generations, load_judge
from darling.partitioning import (
    CascadeJudge,
    EmbeddingJudge,
    LexicalJudge,
    calibrate_cascade,
    partition_groups,
)
from darling.partitioning.algorithms import relabel
from darling.partitioning.shortcut import short_text_equivalent

MODES = ("all_pairs", "greedy")


def same_class_share(partitions: list[list[int]]) -> float:
    """Share of pairs that NoveltyBench's own partitions put in the same class."""
    same = total = 0
    for labels in partitions:
        n = len(labels)
        total += n * (n - 1) // 2
        same += sum(labels[i] == labels[j] for i in range(n) for j in range(i + 1, n))
    return same / total


def untrained_cross_encoder(groups, partitions, max_tokens: int, batch_size: int):
    """A MiniLM cross-encoder with a random head, its threshold matched to NoveltyBench's share of equivalent pairs."""
    from darling.classifier import PartitionClassifier
    from darling.partitioning.embedding import minilm_path

    clf = PartitionClassifier.from_encoder(minilm_path(), max_tokens_per_text=max_tokens)
    share = same_class_share(partitions)
    sample = [(g[i], g[i + 1]) for g in groups[:20] for i in range(0, 9, 2)]
    scores = sorted(clf.predict_proba(sample))
    clf.threshold = scores[min(len(scores) - 1, int((1 - share) * len(scores)))]
    name = f"MiniLM cross-encoder, untrained head, threshold at {share:.0%} equivalent pairs"
    return clf.as_judge(batch_size=batch_size), name


def uncached(judge):
    """The same judge without an embedding cache: the loop encodes both texts of every pair."""
    if isinstance(judge, EmbeddingJudge):
        return EmbeddingJudge(
            judge.model, threshold=judge.threshold, batch_size=judge.batch_size, cache_size=0
        )
    return judge


def take_turns(groups, runs, chunk_size, desc=""):
    """Runs each of ``runs`` (name -> function of a list of groups) on every chunk of ``chunk_size`` groups,
    taking turns chunk by chunk so that all of them meet the same machine load.

    Returns:
        The outputs of each run, its wall seconds and its CPU seconds (this process's, all threads:
        less sensitive than wall time to other jobs on a shared machine).
    """
    outputs = {name: [] for name in runs}
    wall, cpu = dict.fromkeys(runs, 0.0), dict.fromkeys(runs, 0.0)
    for start in tqdm(range(0, len(groups), chunk_size), desc=desc):
        chunk = groups[start : start + chunk_size]
        for name, run in runs.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            outputs[name] += run(chunk)
            wall[name] += time.perf_counter() - began
            cpu[name] += time.process_time() - began_cpu
    return outputs, wall, cpu


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


def judge_tokens(judge) -> int:
    """Tokens a text the judge reads."""
    if isinstance(judge, EmbeddingJudge):
        return judge.model.max_seq_length
    return judge.classifier.settings.max_tokens_per_text


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--judge",
        help="fitted EmbeddingJudge folder or PartitionClassifier checkpoint (default: untrained MiniLM)",
    )
    parser.add_argument("--data-dir", type=Path, default=GENERATIONS)
    parser.add_argument("--groups", type=int, default=200, help="evenly spaced groups to use (of 200)")
    parser.add_argument(
        "--max-tokens-per-text",
        type=int,
        default=128,
        help="without --judge: the cross-encoder's per-text budget",
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
        help="groups (outside the timed ones) the cascade's cut-offs are chosen on; 0 skips approximate mode",
    )
    parser.add_argument(
        "--min-agreement", type=float, default=0.97, help="partition agreement asked of the cut-offs"
    )
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    parser.add_argument("--report", type=Path, help="write the tables and the command as Markdown here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"NoveltyBench generations not found at {args.data_dir}; put ../shared beside the checkout.")
        return 2
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    report = Report(__file__, argv)
    all_groups, partitions = load_generations(args.data_dir)
    # An evenly spaced subset, so both models' generations are represented.
    step = max(1, len(all_groups) // args.groups)
    timed = set(range(0, len(all_groups), step)[: args.groups])
    # The cascade's calibration groups: evenly spaced among the others, never timed or scored.
    rest = [i for i in range(len(all_groups)) if i not in timed]
    calib_step = max(1, len(rest) // max(1, args.calibration_groups))
    calib = [all_groups[i] for i in rest[::calib_step][: args.calibration_groups]]
    groups = [all_groups[i] for i in sorted(timed)]

    if args.judge:
        judge, name = load_judge(args.judge, batch_size=args.batch_size), args.judge
    else:
        judge, name = untrained_cross_encoder(
            all_groups, partitions, args.max_tokens_per_text, args.batch_size
        )
    loop_judge, threshold, rule = uncached(judge), judge.threshold, judge.short_text_rule

    def fresh_judge():
        """The judge with nothing cached, so every timed run pays for its own encoding."""
        if hasattr(judge, "clear_cache"):
            judge.clear_cache()
        return judge

    def score(a, b):
        return loop_judge.scores([(a, b)])[0]

    # Approximate mode's cut-offs are chosen first, on the calibration groups (never timed or scored).
    fast, cascades = None, {}
    if calib:
        fast = (
            LexicalJudge()
            if args.fast == "lexical"
            else EmbeddingJudge("minilm", max_seq_length=judge_tokens(judge))
        )
        for mode in MODES:
            calibrated = calibrate_cascade(
                fast, fresh_judge(), calib, mode=mode, min_agreement=args.min_agreement
            )
            cascades[mode] = CascadeJudge(fast, judge, low=calibrated.low, high=calibrated.high)
            cascades[mode].calibration = calibrated.calibration

    def approx_run(mode):
        def run(chunk):
            if hasattr(fast, "clear_cache"):
                fast.clear_cache()
            fresh_judge()
            return partition_groups(chunk, cascades[mode], mode=mode)

        return run

    report(
        f"Judge: {name} ({type(judge).__name__}, threshold {threshold:.4f}, {judge_tokens(judge)} tokens a text); "
        f"{len(groups)} groups of {len(groups[0])} generations; torch threads {torch.get_num_threads()}. Loop, exact "
        f"and approximate mode take turns on each {args.groups_per_call} groups, so they run under the same load."
    )
    results = {"judge": name, "groups": len(groups), "modes": {}}
    for mode in MODES:
        runs = {
            "loop": lambda chunk, mode=mode: [loop_partition(g, score, threshold, rule, mode) for g in chunk],
            "exact": lambda chunk, mode=mode: partition_groups(chunk, fresh_judge(), mode=mode),
        }
        if calib:
            runs["approx"] = approx_run(mode)
        out, seconds, cpu = take_turns(groups, runs, args.groups_per_call, desc=mode)
        loop_labels = [labels for labels, _ in out["loop"]]
        row = results["modes"][mode] = {
            "loop_pairs_per_group": sum(sent for _, sent in out["loop"]) / len(groups),
            "loop_seconds": seconds["loop"],
            "exact_pairs_per_group": sum(r.judged_pairs for r in out["exact"]) / len(groups),
            "exact_seconds": seconds["exact"],
            "exact_speedup": seconds["loop"] / seconds["exact"],
            "loop_cpu_seconds": cpu["loop"],
            "exact_cpu_seconds": cpu["exact"],
            "exact_cpu_speedup": cpu["loop"] / cpu["exact"],
            "exact_same_partition": sum(r.labels == ref for r, ref in zip(out["exact"], loop_labels))
            / len(groups),
        }
        if calib:
            cascade, cal = cascades[mode], cascades[mode].calibration
            row.update(
                approx_groups=len(groups),
                calibration_groups=len(calib),
                calibration_agreement=cal.agreement,
                approx_seconds=seconds["approx"],
                approx_speedup_vs_loop=seconds["loop"] / seconds["approx"],
                approx_speedup_vs_exact=seconds["exact"] / seconds["approx"],
                approx_cpu_seconds=cpu["approx"],
                approx_cpu_speedup_vs_loop=cpu["loop"] / cpu["approx"],
                approx_same_partition=sum(r.labels == ref for r, ref in zip(out["approx"], loop_labels))
                / len(groups),
                approx_pairs_per_group=sum(r.judged_pairs for r in out["approx"]) / len(groups),
                approx_judge_pairs_per_group=cascade.exact_pairs_total / len(groups),
                cascade_low=cascade.low,
                cascade_high=cascade.high,
                fast_stage=args.fast,
            )
    report()
    report(
        "| mode | loop: pairs / group (of 45) | exact: pairs / group | same partition as loop | loop | exact "
        "| exact speed-up | CPU time: loop, exact | exact speed-up in CPU time |"
    )
    report("|---|---|---|---|---|---|---|---|---|")
    for mode, row in results["modes"].items():
        same = round(row["exact_same_partition"] * len(groups))
        report(
            f"| `{mode}` | {row['loop_pairs_per_group']:.1f} | {row['exact_pairs_per_group']:.1f} | {same} / {len(groups)} "
            f"| {row['loop_seconds']:.1f} s | {row['exact_seconds']:.1f} s | **{row['exact_speedup']:.2f}x** "
            f"| {row['loop_cpu_seconds']:.1f} s, {row['exact_cpu_seconds']:.1f} s | {row['exact_cpu_speedup']:.2f}x |"
        )
    if calib:
        report()
        report(
            f"Approximate mode, cut-offs chosen on {len(calib)} other groups (agreement asked: {args.min_agreement:.0%}):"
        )
        report()
        report(
            "| fast stage | mode | cut-offs (low, high) | agreement, calibration | approx | vs loop | vs exact "
            "| vs loop in CPU time | same partition as loop | pairs judged / group | of them by the judge |"
        )
        report("|---|---|---|---|---|---|---|---|---|---|---|")
        fast_name = "unigram F1" if args.fast == "lexical" else "MiniLM cosine"
        for mode, row in results["modes"].items():
            same = round(row["approx_same_partition"] * len(groups))
            report(
                f"| {fast_name} | `{mode}` | {row['cascade_low']:.3f}, {row['cascade_high']:.3f} "
                f"| {row['calibration_agreement']:.0%} | {row['approx_seconds']:.1f} s "
                f"| **{row['approx_speedup_vs_loop']:.2f}x** | {row['approx_speedup_vs_exact']:.2f}x "
                f"| {row['approx_cpu_speedup_vs_loop']:.2f}x | {same} / {len(groups)} "
                f"| {row['approx_pairs_per_group']:.1f} | {row['approx_judge_pairs_per_group']:.1f} |"
            )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2))
        print(f"results written to {args.output}")
    report.save(args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
