"""How often darling's grader (math-verify) and the official one (the Qwen math toolkit's ``math_equal``) disagree.

The official repository (facebookresearch/darling c07a323) ships one file graded by its own
evaluation code: ``evals/math_evaluation/data/eval_rm_maj_example/math_cot_100.jsonl``, 100 MATH
problems with 8 sampled solutions each (``code``: the completion as the official code read it,
``score``: its ``math_equal`` verdict, ``pred``: the answer it extracted, ``gt``: the gold answer).
This script grades the same 800 (completion, gold) pairs with ``darling.rewards.math.verify_math_answer``
and counts where the two verdicts differ.

    git clone https://github.com/facebookresearch/darling darling-official
    python benchmarks/grader_agreement.py \\
        --official-file darling-official/evals/math_evaluation/data/eval_rm_maj_example/math_cot_100.jsonl \\
        --report benchmarks/results/grader_agreement.md
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from pathlib import Path

from bench_io import Report
from darling.evaluation.io import iter_jsonl
from darling.rewards.math import verify_math_answer

OUTCOMES = (
    ("both correct", True, 1.0),
    ("both wrong", False, 0.0),
    ("official correct, math-verify wrong", True, 0.0),
    ("official wrong, math-verify correct", False, 1.0),
    ("math-verify cannot parse the gold answer, official correct", True, None),
    ("math-verify cannot parse the gold answer, official wrong", False, None),
)


def grade(path: Path) -> tuple[Counter, list[tuple[str, str, bool, float | None]]]:
    """Counts of (official verdict, math-verify verdict) and every pair where they differ."""
    counts: Counter = Counter()
    differing = []
    for number, record in iter_jsonl(path):
        completions, scores, preds = record["code"], record["score"], record["pred"]
        if not len(completions) == len(scores) == len(preds):
            raise ValueError(f"{path}:{number}: code, score and pred differ in length.")
        for completion, official, pred in zip(completions, scores, preds):
            ours = verify_math_answer(completion, record["gt"])
            counts[(bool(official), ours)] += 1
            if ours is None or bool(ours) != bool(official):
                differing.append((str(pred), str(record["gt"]), bool(official), ours))
    return counts, differing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--official-file", type=Path, required=True, help="math_cot_100.jsonl of the official repo"
    )
    parser.add_argument("--report", default=None, help="write the Markdown report here")
    args = parser.parse_args(argv)
    report = Report(__file__, argv)
    counts, differing = grade(args.official_file)
    total = sum(counts.values())
    digest = hashlib.sha256(args.official_file.read_bytes()).hexdigest()[:16]
    report(f"{total} (completion, gold) pairs of `math_cot_100.jsonl` (sha256 {digest}...), graded by both:")
    report()
    report("| official `math_equal` vs math-verify | pairs | share |")
    report("|---|---|---|")
    for label, official, ours in OUTCOMES:
        n = counts[(official, ours)]
        report(f"| {label} | {n} | {100 * n / total:.1f}% |")
    scored = [(o, v) for (o, v) in counts.elements() if v is not None]
    agree = sum(o == bool(v) for o, v in scored)
    report()
    report(
        f"Where both give a verdict they agree on {agree} of {len(scored)} pairs "
        f"({100 * agree / len(scored):.2f}%)."
    )
    if differing:
        report()
        report("| answer the official code extracted | gold | official | math-verify |")
        report("|---|---|---|---|")
        for (pred, gold, official, ours), n in Counter(differing).most_common():
            verdict = "cannot parse the gold" if ours is None else "correct" if ours else "wrong"
            shown = f"`{pred}`" + (f" (x{n})" if n > 1 else "")
            report(f"| {shown} | `{gold}` | {'correct' if official else 'wrong'} | {verdict} |")
    report.save(args.report)


if __name__ == "__main__":
    main()
