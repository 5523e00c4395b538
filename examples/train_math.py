"""accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_math.py --output_dir Qwen3-4B-Base-DARLING-math

Trains a math policy with DARLING (arXiv 2509.02534): reward = math-verify accuracy (0/1) x semantic
diversity of the rollouts, judged by the released math partition classifier. Defaults are the
official math recipe: Qwen3-4B-Base, 10k DeepScaleR problems, classifier
``dogtooth/qwen3-4b-emb-finetuned-step-70-hf`` at threshold 0.5, 256 prompts x 8 rollouts a
generation batch optimised in 4 mini-batches, constant lr 1e-6, weight decay 0.01, temperature 1.0,
beta 0, no std normalization of advantages, prompts over 1,024 tokens dropped, dual-clip c = 3 for
negative advantages (``delta``). Each problem is sent as a chat message (the tokenizer's chat template
is applied, as in the official runs). With ``--use_vllm`` the loss carries no vLLM importance weights
(the official trainer has none; DarlingConfig turns TRL's correction off): pass
``--vllm_importance_sampling_correction true`` to ask for them.

Other ways to run it:

    # a recipe file (any DarlingConfig / script field), CLI flags override it
    accelerate launch --config_file examples/accelerate_configs/ddp.yaml examples/train_math.py \
        --config examples/recipes/math_qwen3_4b.yaml
    # generation with vLLM colocated on the training GPUs (no importance weights unless asked for)
    accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_math.py \
        --use_vllm --vllm_mode colocate
    # offline smoke run on tiny local models (CPU, seconds)
    python examples/train_math.py --smoke
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from trl import ScriptArguments, TrlParser

from darling.rewards import MathAccuracyReward
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."

# The official math recipe (examples/recipes/math_qwen3_4b.yaml, on 8 GPUs); a --config file and CLI
# flags override these. The optimiser settings (constant lr, weight decay 0.01, clipping 1.0) are
# DarlingConfig's defaults.
RECIPE = {
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
}


@dataclass
class MathScriptArguments(ScriptArguments):
    """Script arguments of the math example (dataset and policy)."""

    model_name_or_path: str = field(default="Qwen/Qwen3-4B-Base", metadata={"help": "Policy to train."})
    dataset_name: str | None = field(
        default="agentica-org/DeepScaleR-Preview-Dataset",
        metadata={"help": "Math problems with gold answers."},
    )
    problem_column: str = field(default="problem", metadata={"help": "Column holding the problem text."})
    answer_column: str = field(default="answer", metadata={"help": "Column holding the gold answer."})
    max_train_samples: int | None = field(
        default=10_000, metadata={"help": "Problems to train on (paper: 10k)."}
    )
    smoke: bool = field(
        default=False,
        metadata={"help": "Run 2 steps on tiny local models (offline, CPU) instead of the recipe."},
    )


def build_smoke_models(workdir: str):
    """A tiny policy, a tiny saved partition classifier (Qwen3 family, ChatML layout) and 8 problems."""
    from datasets import Dataset

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.tiny_models import tiny_causal_lm, tiny_sequence_classifier, train_tiny_tokenizer

    policy, tokenizer = tiny_causal_lm()
    backbone, clf_tokenizer = tiny_sequence_classifier("qwen3", tokenizer=train_tiny_tokenizer(kind="causal"))
    settings = ClassifierSettings(threshold=0.5, pair_layout="chatml", max_tokens_per_text=64)
    classifier_dir = f"{workdir}/classifier"
    PartitionClassifier(backbone, clf_tokenizer, settings).save_pretrained(classifier_dir)
    problems = [
        ("What is 2 + 3?", "5"),
        ("Solve 2x + 3 = 11.", "4"),
        ("What is 7 * 6?", "42"),
        ("Half of 10?", "5"),
    ]
    dataset = Dataset.from_dict(
        {"problem": [p for p, _ in problems] * 2, "answer": [a for _, a in problems] * 2}
    )
    return policy, tokenizer, classifier_dir, dataset


def to_prompts(dataset, problem_column: str):
    """Makes every problem a one-turn conversation, with the boxed-answer instruction after the problem.

    The official runs (verl's ``rl_dataset.py``) apply the tokenizer's chat template to every math prompt,
    base model included; a conversational prompt makes TRL do the same, so rollouts start and stop as in
    the paper.
    """
    return dataset.map(
        lambda row: {"prompt": [{"role": "user", "content": f"{row[problem_column]}\n{INSTRUCTION}"}]}
    )


def main(argv: list[str] | None = None) -> DarlingGRPOTrainer:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = TrlParser((MathScriptArguments, DarlingConfig))
    smoke = "--smoke" in argv
    defaults = dict(RECIPE)
    if smoke:
        workdir = tempfile.mkdtemp(prefix="darling-math-smoke-")
        policy, tokenizer, classifier_dir, dataset = build_smoke_models(workdir)
        defaults.update(SMOKE, output_dir=f"{workdir}/run", diversity_classifier=classifier_dir)
    parser.set_defaults_with_config(**defaults)
    script_args, training_args = parser.parse_args_and_config(argv)
    if script_args.smoke and not smoke:
        # Smoke defaults must be in place before parsing; a `smoke: true` in a recipe file comes too late.
        raise ValueError("Pass --smoke on the command line, not in a --config file.")

    if smoke:
        model, processing_class = policy, tokenizer
    else:
        from datasets import load_dataset

        model, processing_class = script_args.model_name_or_path, None
        dataset = load_dataset(
            script_args.dataset_name, script_args.dataset_config, split=script_args.dataset_train_split
        )
        if script_args.max_train_samples is not None:
            dataset = dataset.shuffle(seed=training_args.seed).select(
                range(min(script_args.max_train_samples, len(dataset)))
            )
    dataset = to_prompts(dataset, script_args.problem_column)

    trainer = DarlingGRPOTrainer(
        model=model,
        # The diversity reward is built from --diversity_classifier; quality is math-verify accuracy.
        reward_funcs=[MathAccuracyReward(answer_column=script_args.answer_column)],
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
    return trainer


if __name__ == "__main__":
    main()
