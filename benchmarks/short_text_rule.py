"""The short-text rule on a real model's short answers: how often it settles a pair, and how well.

    python benchmarks/short_text_rule.py --model ~/.cache/darling/SmolLM2-135M-Instruct \
        --output benchmarks/results/short_text_rule
    python benchmarks/short_text_rule.py --from-results benchmarks/results/open_answers/results.json \
        --output benchmarks/results/short_text_rule_trained

With ``--model``, SmolLM2-135M-Instruct answers the open-answer task's *training* prompts
(benchmarks/open_answers; no held-out prompt is sampled). With ``--from-results``, the answers are
those the GRPO- and DARLING-trained policies gave in a recorded experiment (no model runs; the
experiment's outcome does not depend on this measurement, which chooses nothing). For every pair of answers to one prompt where both have at most five
words (where the rule applies) and at least one names an item of the prompt's category, the truth is
whether both name the same item (the task's extraction rule). Each way of settling the pair is scored
against it: the references' unigram-overlap rule, exact string equality, and no rule at all (the
MiniLM EmbeddingJudge at its default threshold decides). Nothing is tuned: each rule is used as shipped.

Writes ``results.json`` (every pair and decision) and ``results.md`` (the table and the command).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from darling.partitioning.shortcut import SHORT_TEXT_MAX_WORDS, short_text_equivalent
from open_answers.run import sample
from open_answers.task import extract_item, task_split

RULES = ("overlap", "exact", "judge")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a plain SmolLM2-135M-Instruct checkpoint: sample its answers")
    source.add_argument(
        "--from-results",
        type=Path,
        help="score the answers the trained policies (GRPO and DARLING) gave in an open_answers results.json",
    )
    parser.add_argument("--samples", type=int, default=32, help="answers a prompt")
    parser.add_argument("--max-new-tokens", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, required=True)
    return parser.parse_args(argv)


def short_pairs(category: str, answers: list[str], max_words: int = SHORT_TEXT_MAX_WORDS) -> list[dict]:
    """Pairs of short answers of which at least one names an item, with the truth: same item or not."""
    rows = []
    short = [a for a in answers if len(a.split()) <= max_words]
    for a, b in itertools.combinations(short, 2):
        item_a, item_b = extract_item(category, a), extract_item(category, b)
        if item_a is None and item_b is None:
            continue  # neither names an item: no truth to score against
        rows.append(
            {"a": a, "b": b, "same_item": item_a == item_b, "both_name_items": None not in (item_a, item_b)}
        )
    return rows


def decide(pairs: list[dict], judge) -> None:
    """Adds each rule's verdict to every pair."""
    verdicts = judge.equivalent([(p["a"], p["b"]) for p in pairs]) if pairs else []
    for pair, by_judge in zip(pairs, verdicts, strict=True):
        pair["overlap"] = short_text_equivalent(pair["a"], pair["b"], rule="overlap")
        pair["exact"] = short_text_equivalent(pair["a"], pair["b"], rule="exact")
        pair["judge"] = bool(by_judge)


def summarize(pairs: list[dict]) -> dict:
    """Per rule: false merges (two different items, or an item and no item, called equivalent) and
    false splits (the same item called different)."""
    out = {}
    for rule in RULES:
        merges = [p for p in pairs if p[rule] and not p["same_item"]]
        splits = [p for p in pairs if not p[rule] and p["same_item"]]
        out[rule] = {
            "false_merges_items": sum(p["both_name_items"] for p in merges),
            "false_merges_no_item": sum(not p["both_name_items"] for p in merges),
            "false_splits": len(splits),
            "examples": [(p["a"], p["b"]) for p in merges[:2] + splits[:2]],
        }
    return out


def render_markdown(results: dict) -> str:
    s = results["summary"]
    same = results["same"]
    items = results["different_items"]
    no_item = results["pairs"] - same - items
    names = {
        "overlap": "unigram overlap (the references' rule, darling's default)",
        "exact": "exact string equality (later NoveltyBench)",
        "judge": "no rule: the MiniLM EmbeddingJudge (threshold 0.8) decides",
    }
    lines = [
        f"{results['pairs']} pairs of short answers ({results['same']} name the same item), from "
        f"{results['short_answers']} of {results['answers']} answers with at most five words:",
        "",
        f"| how a short pair is settled | merged, of {items} pairs naming two different items "
        f"| merged, of {no_item} pairs where one names no item | split, of {same} pairs naming the same item |",
        "|---|---|---|---|",
        *(
            f"| {names[r]} | {s[r]['false_merges_items']} ({s[r]['false_merges_items'] / max(items, 1):.0%}) "
            f"| {s[r]['false_merges_no_item']} ({s[r]['false_merges_no_item'] / max(no_item, 1):.1%}) "
            f"| {s[r]['false_splits']} ({s[r]['false_splits'] / max(same, 1):.0%}) |"
            for r in RULES
        ),
        "",
        "Examples (false merges, then false splits):",
        "",
        *(f"- {r}: " + "; ".join(f"`{a}` / `{b}`" for a, b in s[r]["examples"]) for r in RULES),
        "",
        f"Machine: {results['machine']}, {results['date']}, {results['seconds'] / 60:.1f} min.",
        "",
        f"Command: `{results['command']}`",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> dict:
    import platform

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from darling import EmbeddingJudge

    torch.set_num_threads(args.threads)
    started = time.monotonic()
    if args.from_results:
        recorded = json.loads(args.from_results.read_text())
        groups = [
            (row["category"], row["samples"])
            for run in recorded["runs"]
            for method in ("grpo", "darling")
            for rows in run["metrics"][method].values()
            for row in rows["per_prompt"]
        ]
    else:
        prompts = task_split().train
        model = AutoModelForCausalLM.from_pretrained(args.model)
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        settings = SimpleNamespace(
            eval_samples=args.samples, temperature=1.0, max_completion_length=args.max_new_tokens
        )
        answers = sample(model, tokenizer, prompts, settings, args.seed)
        groups = [(p.category, group) for p, group in zip(prompts, answers)]
    answers = [group for _, group in groups]
    pairs = [pair for category, group in groups for pair in short_pairs(category, group)]
    decide(pairs, EmbeddingJudge("minilm"))
    results = {
        "command": "python benchmarks/short_text_rule.py " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "date": time.strftime("%Y-%m-%d"),
        "answers": sum(map(len, answers)),
        "short_answers": sum(len(a.split()) <= SHORT_TEXT_MAX_WORDS for group in answers for a in group),
        "pairs": len(pairs),
        "same": sum(p["same_item"] for p in pairs),
        "different_items": sum(p["both_name_items"] and not p["same_item"] for p in pairs),
        "summary": summarize(pairs),
        "seconds": time.monotonic() - started,
        "pair_decisions": pairs,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    report = render_markdown(results)
    (args.output / "results.md").write_text(report)
    print(report)
    return results


if __name__ == "__main__":
    run(parse_args())
