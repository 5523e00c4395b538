"""Overhead of DARLING's diversity scoring per GRPO training step, on this machine's CPU.

    OMP_NUM_THREADS=1 python benchmarks/training_overhead.py --group-sizes 4 8 16 --steps 4

Trains the same tiny policy on the same prompts with the same seed twice per group size:
quality-only GRPO (``trl.GRPOTrainer``, one quality reward) and DARLING (``DarlingGRPOTrainer``,
the same quality x diversity from a partition classifier on the real all-MiniLM-L6-v2 encoder,
untrained head: timing only). Reports the mean step time of each, their ratio, the share of a
DARLING step spent in the diversity reward (gathering + partitioning + classifier calls) and the
pairs the classifier judged. The short-text shortcut is off by default: the tiny policy's rollouts
are a few words long and would otherwise be settled without the classifier. The first step of each run is a warm-up and is not timed.

The tiny policy (two layers, hidden size 64) makes generation and the policy update nearly free,
so the ratio here is an upper bound: with a billion-parameter policy the same partitioning cost is
a small share of a step. The per-step partitioning milliseconds and pairs are what carry over.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from datasets import Dataset
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from bench_io import Report
from darling.partitioning.embedding import minilm_path
from darling.rewards import DiversityRewardFunction
from darling.tiny_models import tiny_causal_lm
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

PROMPTS = [
    "Write a short poem about the sea.",
    "Name a coffee shop and describe it.",
    "Tell me a story about a dragon.",
    "Explain why the sky is blue.",
]


class LengthQuality:
    """A cheap quality reward (so the baseline's reward time is negligible)."""

    __name__ = "length_quality"

    def __call__(self, prompts, completions, **kwargs):
        return [min(len(c.split()), 20) / 20 for c in completions]


class TimedDiversity(DiversityRewardFunction):
    """The diversity reward, timing every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds: list[float] = []
        self.judged_pairs: list[int] = []

    # The fused reward scores diversity through _score_local (gathering included), not __call__.
    def _score_local(self, *args, **kwargs):
        start = time.perf_counter()
        out = super()._score_local(*args, **kwargs)
        self.seconds.append(time.perf_counter() - start)
        num_pairs = (
            self.last_stats.get("num_groups", 0) * self.num_generations * (self.num_generations - 1) / 2
        )
        self.judged_pairs.append(round(num_pairs * (1 - self.last_stats.get("settled_without_model", 0.0))))
        return out


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def _run(kind: str, group_size: int, args: argparse.Namespace, classifier, workdir: str) -> dict:
    model, tokenizer = tiny_causal_lm(seed=args.seed)
    common = dict(
        output_dir=f"{workdir}/{kind}-{group_size}",
        use_cpu=True,
        bf16=False,
        max_steps=args.steps + 1,
        per_device_train_batch_size=group_size * args.prompts_per_step,
        num_generations=group_size,
        max_completion_length=args.max_completion_length,
        report_to="none",
        save_strategy="no",
        logging_steps=1000,
        seed=args.seed,
        disable_tqdm=True,
    )
    dataset = Dataset.from_dict({"prompt": PROMPTS * (args.steps + 1)})
    timer = StepTimer()
    diversity = None
    if kind == "grpo":
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[LengthQuality()],
            args=GRPOConfig(**common, scale_rewards="none"),
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=[timer],
        )
    else:
        diversity = TimedDiversity(classifier=classifier, floor=0.1, short_text_rule=args.short_text_rule)
        trainer = DarlingGRPOTrainer(
            model=model,
            reward_funcs=[LengthQuality(), diversity],
            args=DarlingConfig(**common),
            train_dataset=dataset,
            processing_class=tokenizer,
            callbacks=[timer],
        )
    trainer.train()
    steps = timer.times[1:]  # the first step warms up
    result = {"kind": kind, "group_size": group_size, "step_s": statistics.mean(steps)}
    if diversity is not None:
        result["diversity_s"] = statistics.mean(diversity.seconds[1:])
        result["judged_pairs"] = statistics.mean(diversity.judged_pairs[1:])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--group-sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--steps", type=int, default=4, help="timed steps per run (after one warm-up step)")
    parser.add_argument("--prompts-per-step", type=int, default=2)
    parser.add_argument("--max-completion-length", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--short-text-rule",
        default="off",
        help="'off' sends every pair to the classifier (real rollouts are long; the tiny policy's are not)",
    )
    parser.add_argument("--output", help="write the results as JSON here")
    parser.add_argument("--report", help="write the table and the command as Markdown here")
    args = parser.parse_args(argv)

    import torch

    from darling.classifier import PartitionClassifier

    torch.manual_seed(args.seed)  # the untrained head is random: seed it so runs judge the same pairs
    classifier = PartitionClassifier.from_encoder(minilm_path(), threshold=0.5, max_tokens_per_text=128)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for group_size in args.group_sizes:
            grpo = _run("grpo", group_size, args, classifier, workdir)
            darling = _run("darling", group_size, args, classifier, workdir)
            rows.append(
                {
                    "group_size": group_size,
                    "grpo_step_s": grpo["step_s"],
                    "darling_step_s": darling["step_s"],
                    "ratio": darling["step_s"] / grpo["step_s"],
                    "diversity_s": darling["diversity_s"],
                    "diversity_share": darling["diversity_s"] / darling["step_s"],
                    "judged_pairs": darling["judged_pairs"],
                }
            )
    report = Report(__file__, argv)
    report(
        f"{args.prompts_per_step} prompts/step, {args.max_completion_length}-token completions, "
        f"{args.steps} timed steps, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    report()
    report(
        "| group size | GRPO step (s) | DARLING step (s) | ratio | diversity (s) | share of step | pairs judged/step |"
    )
    report("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        report(
            f"| {r['group_size']} | {r['grpo_step_s']:.3f} | {r['darling_step_s']:.3f} | {r['ratio']:.2f}x | "
            f"{r['diversity_s']:.3f} | {r['diversity_share']:.0%} | {r['judged_pairs']:.0f} |"
        )
    report.save(args.report)
    if args.output:
        with open(args.output, "w") as handle:
            json.dump({"settings": vars(args), "rows": rows}, handle, indent=2)


if __name__ == "__main__":
    main()
