"""How far can a cascade approximate a real trained cross-encoder? A replay of NoveltyBench's decisions.

Run (from the repository root, with ../shared beside it):

    HF_HUB_OFFLINE=1 python benchmarks/cascade_replay.py [--classifier PATH] [--report PATH]

The generations in ``../shared/data/noveltybench/generations`` (200 groups of 10) come with the
partitions NoveltyBench's DeBERTa-v3-large classifier gave them with its greedy loop. Greedy asks
each text about the class heads before it, in order, until one says "equivalent", so every answer
that loop received is recoverable from the partition: (head, text) was equivalent exactly when the
two share a class. Replaying those answers is an exact judge that *is* a trained cross-encoder on
every pair greedy asks, with no download and no GPU. (``all_pairs`` also asks pairs greedy never
asked; there the replay answers "same class", the transitive closure of the real answers, so its
``all_pairs`` numbers are a proxy.)

For each fast judge (the pretrained MiniLM bi-encoder's cosine; unigram F1; with ``--classifier``,
a darling PartitionClassifier's P(equivalent)), :func:`~darling.partitioning.calibrate_cascade` chooses the
cut-offs on the even-numbered groups and the cascade is measured on the odd-numbered ones: share of
groups whose partition equals the exact one, and pairs the cross-encoder still judges. With a
cross-encoder the cost is its pair passes, so ``loop pairs / cascade pairs`` bounds the speed-up
over the references' loop (the fast stage is not free, so the real figure is lower). A trade-off
table shows the agreement when the cascade settles a given share of the pairs as different.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from bench_io import GENERATIONS, Report, load_generations
from darling.partitioning import (
    EmbeddingJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
    calibrate_cascade,
    partition_groups,
)


class ReplayJudge(Judge):
    """Answers as NoveltyBench's classifier did: equivalent when both texts share its class."""

    name = "replay(DeBERTa-v3-large)"
    short_text_rule = "off"  # NoveltyBench's own decisions already include whatever it settled

    def __init__(self, groups: list[list[str]], partitions: list[list[int]]) -> None:
        self.same: dict[tuple[str, str], bool] = {}
        self.asked = 0
        for texts, labels in zip(groups, partitions):
            for i, a in enumerate(texts):
                for j, b in enumerate(texts):
                    if i != j:
                        answer = labels[i] == labels[j]
                        if self.same.setdefault((a, b), answer) != answer:
                            raise ValueError(
                                f"Conflicting replayed answers for the pair {a[:40]!r} / {b[:40]!r}."
                            )

    def equivalent(self, pairs):
        self.asked += len(pairs)
        return [self.same[p] for p in pairs]


def loop_pairs(groups: list[list[str]], judge: ReplayJudge, mode: str) -> float:
    """Pairs the references' loop sends: every distinct pair (all_pairs) or greedy's head comparisons."""
    if mode == "all_pairs":
        return sum(sum(a != b for i, a in enumerate(g) for b in g[i + 1 :]) for g in groups) / len(groups)
    judge.asked = 0
    partition_groups(groups, judge, mode="greedy", short_text_rule="off")
    return judge.asked / len(groups)


def tradeoff(
    fast: ScoreJudge, judge: ReplayJudge, groups, reference, mode, shares
) -> list[tuple[float, float, float]]:
    """(share of pairs settled as different, agreement, cross-encoder pairs a group) for cut-offs at score quantiles."""
    from darling.partitioning import CascadeJudge

    pairs = [
        (g[i], g[j]) for g in groups for i in range(len(g)) for j in range(i + 1, len(g)) if g[i] != g[j]
    ]
    scores = sorted(fast.scores(pairs))
    rows = []
    for share in shares:
        low = scores[int(share * (len(scores) - 1))] if share > 0 else float("-inf")
        cascade = CascadeJudge(fast, judge, low=low, high=float("inf"))
        results = partition_groups(groups, cascade, mode=mode, short_text_rule="off")
        same = sum(r.labels == ref for r, ref in zip(results, reference)) / len(groups)
        rows.append((share, same, cascade.exact_pairs_total / len(groups)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=GENERATIONS)
    parser.add_argument(
        "--classifier", help="also try this darling PartitionClassifier's P(equivalent) as fast stage"
    )
    parser.add_argument(
        "--max-tokens-per-text", type=int, default=256, help="MiniLM cosine's per-text budget"
    )
    parser.add_argument(
        "--min-agreement", type=float, default=0.97, help="agreement asked of the calibration"
    )
    parser.add_argument("--output", type=Path, help="write the results as JSON here")
    parser.add_argument("--report", type=Path, help="write the tables and the command as Markdown here")
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        print(f"NoveltyBench generations not found at {args.data_dir}; put ../shared beside the checkout.")
        return 2
    report = Report(__file__, argv)
    groups, partitions = load_generations(args.data_dir)
    judge = ReplayJudge(groups, partitions)
    calib, test = groups[0::2], groups[1::2]
    fast_judges: dict[str, ScoreJudge] = {
        "MiniLM cosine": EmbeddingJudge("minilm", max_seq_length=args.max_tokens_per_text),
        "unigram F1": LexicalJudge(),
    }
    if args.classifier:
        from darling.classifier import PartitionClassifier

        clf = PartitionClassifier.from_pretrained(args.classifier)
        fast_judges["PartitionClassifier P(equivalent)"] = clf.as_judge()
    results: dict = {
        "groups": len(groups),
        "calibration_groups": len(calib),
        "test_groups": len(test),
        "rows": [],
    }
    shares = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7)
    for mode in ("greedy", "all_pairs"):
        reference = [r.labels for r in partition_groups(test, judge, mode=mode, short_text_rule="off")]
        loop = loop_pairs(test, judge, mode)
        report()
        report(f"[{mode}] held-out groups: {len(test)}; the loop sends {loop:.1f} pairs a group")
        report()
        report(
            "| fast judge | cut-offs (low, high) | agreement, calibration | agreement, held out "
            "| cross-encoder pairs / group | loop pairs / cascade pairs |"
        )
        report("|---|---|---|---|---|---|")
        for name, fast in fast_judges.items():
            cascade = calibrate_cascade(
                fast,
                judge,
                calib,
                mode=mode,
                min_agreement=args.min_agreement,
                short_text_rule="off",
                show_progress=False,
            )
            cal = cascade.calibration
            cascade.exact_pairs_total = 0
            held = partition_groups(test, cascade, mode=mode, short_text_rule="off")
            same = sum(r.labels == ref for r, ref in zip(held, reference)) / len(test)
            pairs = cascade.exact_pairs_total / len(test)
            report(
                f"| {name} | {cal.low:.3f}, {cal.high:.3f} | {cal.agreement:.0%} | {same:.0%} | {pairs:.1f} "
                f"| {loop / pairs if pairs else math.inf:.2f}x |"
            )
            curve = tradeoff(fast, judge, test, reference, mode, shares)
            results["rows"].append(
                dict(
                    mode=mode,
                    fast=name,
                    low=cal.low,
                    high=cal.high,
                    calibration_agreement=cal.agreement,
                    held_out_agreement=same,
                    cross_encoder_pairs=pairs,
                    loop_pairs=loop,
                    tradeoff=curve,
                )
            )
        report()
        report(
            f"[{mode}] held-out agreement when the cascade settles a share of the pairs (the lowest scored) as "
            "different, with the cross-encoder pairs left a group:"
        )
        report()
        report("| fast judge | " + " | ".join(f"{s:.0%} settled" for s in shares) + " |")
        report("|---|" + "---|" * len(shares))
        for row in (r for r in results["rows"] if r["mode"] == mode):
            cells = [f"{same:.0%} ({pairs:.1f} pairs)" for _, same, pairs in row["tradeoff"]]
            report(f"| {row['fast']} | " + " | ".join(cells) + " |")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, default=float))
        print(f"results written to {args.output}")
    report.save(args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
