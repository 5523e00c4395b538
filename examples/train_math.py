"""accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_math.py --output_dir Qwen3-4B-Base-DARLING-math

Trains a policy with DARLING (arXiv 2509.02534): reward = quality x semantic diversity of the
rollouts. This one script runs every recipe; a recipe picks the policy, the prompts, the quality
rewards (by name, from ``REWARDS``) and the partition classifier. ``examples/train_creative.py`` is
the same script with the non-verifiable recipe.

Defaults (``--recipe math``) are the official math recipe: Qwen3-4B-Base, 10k DeepScaleR problems,
quality = math-verify accuracy (0/1), classifier ``dogtooth/qwen3-4b-emb-finetuned-step-70-hf`` at
threshold 0.5, 256 prompts x 8 rollouts a generation batch optimised in 4 mini-batches, constant lr
1e-6, weight decay 0.01, temperature 1.0, beta 0, no std normalization of advantages, prompts over
1,024 tokens dropped, dual-clip c = 3 for negative advantages (``delta``). Each problem is sent as a
chat message (the tokenizer's chat template is applied, as in the official runs). With ``--use_vllm``
the loss carries no vLLM importance weights (the official trainer has none; DarlingConfig turns TRL's
correction off): pass ``--vllm_importance_sampling_correction true`` to ask for them.

Other ways to run it:

    # a recipe file (any DarlingConfig / script field), CLI flags override it
    accelerate launch --config_file examples/accelerate_configs/ddp.yaml examples/train_math.py \
        --config examples/recipes/math_qwen3_4b.yaml
    # generation with vLLM colocated on the training GPUs (no importance weights unless asked for)
    accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_math.py \
        --use_vllm --vllm_mode colocate
    # a local policy and a local JSONL of problems (columns problem, answer)
    python examples/train_math.py --model_name_or_path path/to/policy --dataset_name problems.jsonl
    # offline smoke run on tiny local models (CPU, seconds); --recipe creative for the chat recipe
    python examples/train_math.py --smoke
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field

from trl import ScriptArguments, TrlParser

from darling.trainer import DarlingConfig, DarlingGRPOTrainer

INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."

# The official recipes (examples/recipes/*.yaml, on 8 GPUs): script and DarlingConfig defaults; a
# --config file and CLI flags override them. The optimiser settings (constant lr, weight decay 0.01,
# clipping 1.0) and the loss (dual-clip, KL without the ratio) are DarlingConfig's defaults.
RECIPES: dict[str, dict] = {
    "math": {
        "model_name_or_path": "Qwen/Qwen3-4B-Base",
        "dataset_name": "agentica-org/DeepScaleR-Preview-Dataset",
        "prompt_format": "math",
        "quality_rewards": ["math_accuracy"],
        "output_dir": "Qwen3-4B-Base-DARLING-math",
        "diversity_classifier": "dogtooth/qwen3-4b-emb-finetuned-step-70-hf",
        "diversity_kwargs": {"threshold": 0.5, "mode": "all_pairs", "floor": 0.1},
        "num_generations": 8,
        "learning_rate": 1e-6,
        "temperature": 1.0,
        "beta": 0.0,
        "max_prompt_length": 1024,
        "max_completion_length": 8192,
        # 8 GPUs x 16 x 4 = 64 prompts x 8 an update; 16 micro-batches = 256 prompts x 8 a generation batch.
        "per_device_train_batch_size": 16,
        "gradient_accumulation_steps": 4,
        "steps_per_generation": 16,
        "logging_steps": 1,
        "save_steps": 50,
        "report_to": "none",
    },
    "creative": {
        "model_name_or_path": "meta-llama/Llama-3.1-8B-Instruct",
        "dataset_name": "allenai/WildChat-1M",
        "prompt_format": "wildchat",
        "quality_rewards": ["reward_model"],
        "reward_model": "Nexusflow/Athene-RM-8B",
        "output_dir": "Llama-3.1-8B-Instruct-DARLING",
        "diversity_classifier": "dogtooth/similarity-classifier-f168-hf",
        "diversity_kwargs": {"threshold": 0.32, "mode": "all_pairs", "floor": 0.1},
        "num_generations": 8,
        "learning_rate": 1e-6,
        "temperature": 1.0,
        "beta": 0.001,
        "max_prompt_length": 512,
        "max_completion_length": 1024,
        # 8 GPUs x 8 x 8 = 512 rollouts = 64 prompts x 8 a generation batch, one update a batch.
        "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 8,
        "steps_per_generation": 8,
        "logging_steps": 1,
        "save_steps": 50,
        "report_to": "none",
    },
}

SMOKE = {
    "use_cpu": True,
    "bf16": False,
    "max_steps": 2,
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "steps_per_generation": 1,
    "num_generations": 4,
    "max_completion_length": 8,
    "save_strategy": "no",
    "report_to": "none",
    "beta": 0.0,  # the tiny smoke run needs no reference model
}


@dataclass
class DarlingScriptArguments(ScriptArguments):
    """Script arguments: the policy, the prompts and the quality rewards (the diversity side is DarlingConfig's)."""

    recipe: str = field(
        default="math", metadata={"help": f"Defaults to start from: {', '.join(RECIPES)} (see RECIPES)."}
    )
    model_name_or_path: str = field(default="Qwen/Qwen3-4B-Base", metadata={"help": "Policy to train."})
    dataset_name: str | None = field(
        default="agentica-org/DeepScaleR-Preview-Dataset",
        metadata={"help": "Hub dataset id, or a local .json/.jsonl file."},
    )
    prompt_format: str = field(
        default="math",
        metadata={"help": "How rows become prompts: 'math' (problem + boxed instruction) or 'wildchat'."},
    )
    quality_rewards: list[str] = field(
        default_factory=lambda: ["math_accuracy"],
        metadata={"help": "Quality reward functions by name (math_accuracy, reward_model), summed."},
    )
    problem_column: str = field(default="problem", metadata={"help": "Column holding the problem text."})
    answer_column: str = field(default="answer", metadata={"help": "Column holding the gold answer."})
    reward_model: str = field(
        default="Nexusflow/Athene-RM-8B",
        metadata={
            "help": "Reward model of 'reward_model': Athene-style (v_head) or a scalar-head classifier."
        },
    )
    reward_model_batch_size: int = field(
        default=8, metadata={"help": "Conversations per reward-model forward pass."}
    )
    max_train_samples: int | None = field(
        default=10_000, metadata={"help": "Prompts to train on (paper: 10k)."}
    )
    smoke: bool = field(
        default=False,
        metadata={"help": "Run 2 steps on tiny local models (offline, CPU) instead of the recipe."},
    )


def _math_accuracy(args: DarlingScriptArguments, smoke: bool):
    from darling.rewards import MathAccuracyReward

    return MathAccuracyReward(answer_column=args.answer_column)


def _reward_model(args: DarlingScriptArguments, smoke: bool):
    from darling.rewards import RewardModelReward

    # The reward model's format (Athene-style v_head or scalar head) is read from its checkpoint.
    reward = RewardModelReward(
        args.reward_model,
        batch_size=args.reward_model_batch_size,
        device="cpu" if smoke else None,
        model_kwargs=None if smoke else {"dtype": "bfloat16"},  # the official runs scored in bfloat16
    )
    print(f"Quality reward: {reward!r}")  # head='athene' or head='scalar', as read from the checkpoint
    return reward


# Quality rewards by the name a recipe gives them (trl/scripts/grpo.py's reward_funcs_registry).
REWARDS: dict[str, Callable] = {"math_accuracy": _math_accuracy, "reward_model": _reward_model}


def to_prompts(dataset, problem_column: str):
    """Makes every problem a one-turn conversation, with the boxed-answer instruction after the problem.

    The official runs (verl's ``rl_dataset.py``) apply the tokenizer's chat template to every math prompt,
    base model included; a conversational prompt makes TRL do the same, so rollouts start and stop as in
    the paper.
    """
    return dataset.map(
        lambda row: {"prompt": [{"role": "user", "content": f"{row[problem_column]}\n{INSTRUCTION}"}]}
    )


def first_user_turns(dataset):
    """English WildChat conversations -> their first user turn as ``[{"role": "user", "content": ...}]``.

    Longer prompts than ``--max_prompt_length`` tokens (chat template included) are dropped by the
    trainer, as in the official runs.
    """

    def keep(row) -> bool:
        conversation = row["conversation"]
        return (
            row.get("language", "English") == "English"
            and bool(conversation)
            and conversation[0]["role"] == "user"
            and bool(conversation[0]["content"].strip())
        )

    dataset = dataset.filter(keep)
    return dataset.map(
        lambda row: {"prompt": [{"role": "user", "content": row["conversation"][0]["content"]}]},
        remove_columns=dataset.column_names,
    )


PROMPT_FORMATS: dict[str, Callable] = {
    "math": lambda dataset, args: to_prompts(dataset, args.problem_column),
    "wildchat": lambda dataset, args: first_user_turns(dataset),
}


def build_smoke_models(recipe: str, workdir: str) -> tuple:
    """A tiny policy, a tiny saved partition classifier, 8 rows in the recipe's format, and the paths
    that replace the recipe's hub models (for ``creative``, a tiny reward model in Athene-RM-8B's layout)."""
    from datasets import Dataset

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.tiny_models import (
        save_tiny_athene_reward_model,
        tiny_causal_lm,
        tiny_sequence_classifier,
        train_tiny_tokenizer,
    )

    policy, tokenizer = tiny_causal_lm()
    overrides = {"output_dir": f"{workdir}/run", "diversity_classifier": f"{workdir}/classifier"}
    if recipe == "math":
        backbone, clf_tokenizer = tiny_sequence_classifier(
            "qwen3", tokenizer=train_tiny_tokenizer(kind="causal")
        )
        settings = ClassifierSettings(threshold=0.5, pair_layout="chatml", max_tokens_per_text=64)
        problems = [
            ("What is 2 + 3?", "5"),
            ("Solve 2x + 3 = 11.", "4"),
            ("What is 7 * 6?", "42"),
            ("Half of 10?", "5"),
        ]
        dataset = Dataset.from_dict(
            {"problem": [p for p, _ in problems] * 2, "answer": [a for _, a in problems] * 2}
        )
    else:
        overrides["reward_model"] = save_tiny_athene_reward_model(f"{workdir}/reward_model")
        backbone, clf_tokenizer = tiny_sequence_classifier("modernbert")
        settings = ClassifierSettings(threshold=0.32, max_tokens_per_text=64)
        prompts = [
            "Write a haiku about rain.",
            "Name a coffee shop.",
            "Tell me a story.",
            "Describe a dragon.",
        ]
        dataset = Dataset.from_dict(
            {
                "conversation": [[{"role": "user", "content": p}] for p in prompts * 2],
                "language": ["English"] * 8,
            }
        )
    PartitionClassifier(backbone, clf_tokenizer, settings).save_pretrained(overrides["diversity_classifier"])
    return policy, tokenizer, dataset, overrides


def load_prompts(args: DarlingScriptArguments, seed: int):
    """The training rows: a local .json/.jsonl file or a hub dataset, shuffled and cut to ``max_train_samples``."""
    from datasets import load_dataset

    name = args.dataset_name
    if name and name.endswith((".json", ".jsonl")):
        dataset = load_dataset("json", data_files=name, split="train")
    else:
        dataset = load_dataset(name, args.dataset_config, split=args.dataset_train_split)
    if args.max_train_samples is not None:
        dataset = dataset.shuffle(seed=seed).select(range(min(args.max_train_samples, len(dataset))))
    return dataset


def _recipe_of(argv: list[str], default: str) -> str:
    """``--recipe NAME`` from the command line: it must be known before the defaults are set."""
    for i, arg in enumerate(argv):
        if arg == "--recipe" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--recipe="):
            return arg.split("=", 1)[1]
    return default


def main(argv: list[str] | None = None, recipe: str = "math") -> DarlingGRPOTrainer:
    """Parses the recipe, ``--config`` file and flags, then trains.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).
        recipe: The recipe used when ``--recipe`` is not given.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    recipe = _recipe_of(argv, recipe)
    if recipe not in RECIPES:
        raise ValueError(f"Unknown --recipe {recipe!r}; choose one of {', '.join(RECIPES)}.")
    parser = TrlParser((DarlingScriptArguments, DarlingConfig))
    smoke = "--smoke" in argv
    defaults = {**RECIPES[recipe], "recipe": recipe}
    if smoke:
        workdir = tempfile.mkdtemp(prefix=f"darling-{recipe}-smoke-")
        policy, tokenizer, dataset, overrides = build_smoke_models(recipe, workdir)
        defaults.update(SMOKE, **overrides)
    parser.set_defaults_with_config(**defaults)
    script_args, training_args = parser.parse_args_and_config(argv)
    if script_args.smoke and not smoke:
        # Smoke defaults must be in place before parsing; a `smoke: true` in a recipe file comes too late.
        raise ValueError("Pass --smoke on the command line, not in a --config file.")
    unknown = [name for name in script_args.quality_rewards if name not in REWARDS]
    if unknown or script_args.prompt_format not in PROMPT_FORMATS:
        raise ValueError(
            f"Unknown quality reward(s) {unknown} or prompt format {script_args.prompt_format!r}; rewards: "
            f"{', '.join(REWARDS)}; prompt formats: {', '.join(PROMPT_FORMATS)}."
        )

    quality = [REWARDS[name](script_args, smoke) for name in script_args.quality_rewards]
    if smoke:
        model, processing_class = policy, tokenizer
    else:
        model, processing_class = script_args.model_name_or_path, None
        dataset = load_prompts(script_args, training_args.seed)
    dataset = PROMPT_FORMATS[script_args.prompt_format](dataset, script_args)

    trainer = DarlingGRPOTrainer(
        model=model,
        # The diversity reward is built from --diversity_classifier; quality is the named rewards' sum.
        reward_funcs=quality,
        args=training_args,
        train_dataset=dataset,
        processing_class=processing_class,
    )
    trainer.train()
    if smoke:
        shutil.rmtree(workdir, ignore_errors=True)  # the tiny models (and the default output_dir)
    else:
        trainer.save_model(training_args.output_dir)
        if training_args.push_to_hub:
            trainer.push_to_hub(dataset_name=script_args.dataset_name)
    trainer.accelerator.end_training()  # trackers closed, process group destroyed: a clean exit under accelerate
    return trainer


if __name__ == "__main__":
    main()
