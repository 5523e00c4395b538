"""NoveltyBench with darling: 10 generations a curated prompt, partitioned and scored -> distinct and utility.

    python examples/eval_novelty.py --model_name_or_path my-org/my-darling-run --output_dir runs/noveltybench

Prompts come from the hub dataset ``yimingzhang/novelty-bench`` (split ``curated``) unless ``--dataset``
names a local file (e.g. ``../shared/data/noveltybench/prompts_curated.jsonl``). As in NoveltyBench,
generations are partitioned greedily with its DeBERTa classifier (threshold 0.102) and scored by
``Skywork/Skywork-Reward-Gemma-2-27B-v0.2``, whose raw scores are mapped to 1-10 with NoveltyBench's
cut points; ``distinct`` is the number of classes. ``--protocol`` picks how the rest is scored:

- ``upstream`` (default, NoveltyBench): the classifier reads 128 tokens a text; ``utility`` is the
  patience-weighted (0.8) mean of the scores credited to the first generation of each class.
- ``darling`` (the DARLING paper's fork of NoveltyBench, behind its NoveltyBench table): 512 tokens a
  text; ``utility`` = the class heads' scores / 10, and ``quality`` = mean score of all generations.

    python examples/eval_novelty.py --model_name_or_path my-org/my-darling-run --protocol darling \
        --output_dir runs/noveltybench-darling

``--config recipe.yaml`` works too.

Smoke test (a tiny local policy and reward model, offline, seconds):

    python examples/eval_novelty.py --smoke --output_dir /tmp/novelty-smoke
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from trl import TrlParser

from darling.evaluation.runner import EvaluationConfig, run_evaluation

# NoveltyBench's raw-score cut points for Skywork-Reward-Gemma-2-27B-v0.2 (bins 1..10).
SKYWORK_SCORE_BINS = [-7.71875, -6.28125, -6.0, -5.71875, -5.5, -5.0, -4.375, -3.4375, -2.046875]
SMOKE_PROMPTS = [
    "Tell me a story in five sentences about a girl and her dog.",
    "Name a color.",
    "Suggest a name for a coffee shop.",
]


@dataclass
class NoveltyArguments:
    """Arguments of the NoveltyBench evaluation."""

    model_name_or_path: str = field(
        default="meta-llama/Llama-3.1-8B-Instruct", metadata={"help": "Policy to evaluate."}
    )
    dataset: str = field(
        default="yimingzhang/novelty-bench",
        metadata={"help": "Hub dataset or local file of NoveltyBench prompts."},
    )
    split: str = field(default="curated", metadata={"help": "Hub split (curated or wildchat)."})
    output_dir: str = field(
        default="runs/noveltybench", metadata={"help": "Where results go (and resume from)."}
    )
    num_generations: int = field(default=10, metadata={"help": "Generations a prompt (NoveltyBench: 10)."})
    judge: str = field(
        default="classifier:yimingzhang/deberta-v3-large-generation-similarity",
        metadata={
            "help": "Partition judge spec (classifier:PATH, embedding:MODEL, lexical, exact, normalized)."
        },
    )
    protocol: str = field(
        default="upstream",
        metadata={"help": "NoveltyBench protocol: upstream (NoveltyBench) or darling (the paper's fork)."},
    )
    reward_model: str | None = field(
        default="Skywork/Skywork-Reward-Gemma-2-27B-v0.2", metadata={"help": "Quality reward model."}
    )
    score_bins: list[float] = field(
        default_factory=lambda: list(SKYWORK_SCORE_BINS),
        metadata={"help": "Raw reward cut points mapping scores to 1..10 (NoveltyBench's, for Skywork)."},
    )
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    max_new_tokens: int = field(default=512, metadata={"help": "Token limit of a generation."})
    batch_size: int = field(default=20, metadata={"help": "Sequences per generate call."})
    backend: str = field(default="transformers", metadata={"help": "transformers or vllm."})
    limit: int | None = field(default=None, metadata={"help": "Evaluate only the first N prompts."})
    smoke: bool = field(default=False, metadata={"help": "Run on tiny local models in seconds (offline)."})


def build_smoke_models(root: Path) -> tuple[str, str]:
    """Saves a tiny policy and a tiny scalar reward model under ``root``; returns their paths."""
    from darling.tiny_models import tiny_causal_lm, tiny_sequence_classifier, train_tiny_tokenizer

    tokenizer = train_tiny_tokenizer(kind="causal")
    policy, _ = tiny_causal_lm(tokenizer, hidden_size=32, num_layers=1)
    reward, _ = tiny_sequence_classifier(
        "qwen3", tokenizer=tokenizer, num_labels=1, hidden_size=32, num_layers=1
    )
    reward.config.pad_token_id = tokenizer.pad_token_id
    for name, model in (("policy", policy), ("reward", reward)):
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    return str(root / "policy"), str(root / "reward")


def main(argv: list[str] | None = None) -> dict:
    """Runs the evaluation and returns its summary."""
    (args,) = TrlParser((NoveltyArguments,)).parse_args_and_config(argv)
    out = Path(args.output_dir)
    config = dict(
        model=args.model_name_or_path,
        dataset=args.dataset,
        split=args.split,
        output_dir=str(out),
        task="open",
        num_samples=args.num_generations,
        judge=args.judge,
        protocol=args.protocol,
        partition_mode="greedy",
        reward_model=args.reward_model,
        score_bins=args.score_bins if args.reward_model else None,
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
        backend=args.backend,
        limit=args.limit,
    )
    if args.smoke:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        policy, reward = build_smoke_models(out / "smoke-models")
        prompts = out / "smoke-prompts.jsonl"
        local = Path(args.dataset)
        if not local.exists():
            prompts.write_text(
                "".join(
                    json.dumps({"id": f"smoke-{i}", "prompt": p}) + "\n" for i, p in enumerate(SMOKE_PROMPTS)
                )
            )
            local = prompts
        config.update(
            model=policy,
            reward_model=reward,
            dataset=str(local),
            judge="lexical",
            score_bins=[-0.5, 0.0, 0.5],  # a tiny random reward model scores near 0
            max_new_tokens=8,
            limit=3,
            backend="transformers",
        )
    summary = run_evaluation(EvaluationConfig(**config))
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
