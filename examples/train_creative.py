"""accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_creative.py --output_dir Llama-3.1-8B-Instruct-DARLING

Trains a chat policy with DARLING (arXiv 2509.02534) on non-verifiable prompts: reward = reward-model
score x semantic diversity of the rollouts, judged by the released ModernBERT partition classifier.
Defaults are the paper's non-verifiable recipe: Llama-3.1-8B-Instruct, 10k English first-turn
WildChat prompts, quality from Athene-RM-8B, classifier ``dogtooth/similarity-classifier-f168-hf``
at threshold 0.32, 8 rollouts a prompt, lr 1e-6, temperature 1.0, beta 0.001, prompts up to 512 and
responses up to 1,024 tokens. Athene-RM-8B is a Llama body with a value head read at its CLS token;
``RewardModelReward`` recognises that format from the checkpoint and scores it as the official code
does. Its scores can be negative: the official runs multiplied the raw score by diversity, and
``--negative_quality`` (a DarlingConfig setting, left at its default here) decides what happens.
The loss is the official one: dual-clip c = 3 (``delta``), a KL loss not multiplied by the policy
ratio, and with ``--use_vllm`` no vLLM importance weights unless ``--vllm_importance_sampling_correction
true`` asks for them (DarlingConfig's defaults).

Other ways to run it:

    # a recipe file (any DarlingConfig / script field), CLI flags override it
    accelerate launch --config_file examples/accelerate_configs/ddp.yaml examples/train_creative.py \
        --config examples/recipes/creative_llama_8b.yaml
    # generation with vLLM colocated on the training GPUs (no importance weights unless asked for)
    accelerate launch --config_file examples/accelerate_configs/zero3.yaml examples/train_creative.py \
        --use_vllm --vllm_mode colocate
    # offline smoke run on tiny local models, an Athene-format reward model included (CPU, seconds)
    python examples/train_creative.py --smoke
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from trl import ScriptArguments, TrlParser

from darling.rewards import RewardModelReward
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

# The official non-verifiable recipe (examples/recipes/creative_llama_8b.yaml, on 8 GPUs); a --config
# file and CLI flags override these. The optimiser settings (constant lr, weight decay 0.01, clipping
# 1.0) and the raw multiplication of the reward-model score are DarlingConfig's defaults.
RECIPE = {
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
    "num_generations": 4,
    "max_completion_length": 8,
    "save_strategy": "no",
    "report_to": "none",
    "beta": 0.0,  # the tiny smoke run needs no reference model
}


@dataclass
class CreativeScriptArguments(ScriptArguments):
    """Script arguments of the creative/chat example (prompts, policy and reward model)."""

    model_name_or_path: str = field(default="meta-llama/Llama-3.1-8B-Instruct", metadata={"help": "Policy."})
    dataset_name: str | None = field(
        default="allenai/WildChat-1M", metadata={"help": "Chat logs to take prompts from."}
    )
    reward_model: str = field(
        default="Nexusflow/Athene-RM-8B",
        metadata={"help": "Reward model: Athene-style (v_head) or a scalar-head sequence classifier."},
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


def first_user_turns(dataset):
    """English WildChat conversations -> their first user turn as ``[{"role": "user", "content": ...}]``."""

    def keep(row) -> bool:
        conversation = row["conversation"]
        return (
            row.get("language", "English") == "English"
            and bool(conversation)
            and conversation[0]["role"] == "user"
            and bool(conversation[0]["content"].strip())
        )

    dataset = dataset.filter(keep)
    prompts = dataset.map(
        lambda row: {"prompt": [{"role": "user", "content": row["conversation"][0]["content"]}]},
        remove_columns=dataset.column_names,
    )
    return prompts


def build_smoke_models(workdir: str):
    """A tiny policy, a tiny saved Athene-format reward model, a tiny saved ModernBERT-style classifier
    and 8 chat prompts."""
    from datasets import Dataset

    from darling.classifier import ClassifierSettings, PartitionClassifier
    from darling.tiny_models import save_tiny_athene_reward_model, tiny_causal_lm, tiny_sequence_classifier

    policy, tokenizer = tiny_causal_lm()
    # Laid out on disk exactly like Nexusflow/Athene-RM-8B (Llama body + v_head, CLS-token tokenizer).
    reward_model_dir = save_tiny_athene_reward_model(f"{workdir}/reward_model")
    backbone, clf_tokenizer = tiny_sequence_classifier("modernbert")
    settings = ClassifierSettings(threshold=0.32, max_tokens_per_text=64)
    classifier_dir = f"{workdir}/classifier"
    PartitionClassifier(backbone, clf_tokenizer, settings).save_pretrained(classifier_dir)
    prompts = ["Write a haiku about rain.", "Name a coffee shop.", "Tell me a story.", "Describe a dragon."]
    dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in prompts * 2]})
    return policy, tokenizer, reward_model_dir, classifier_dir, dataset


def main(argv: list[str] | None = None) -> DarlingGRPOTrainer:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = TrlParser((CreativeScriptArguments, DarlingConfig))
    smoke = "--smoke" in argv
    defaults = dict(RECIPE)
    if smoke:
        workdir = tempfile.mkdtemp(prefix="darling-creative-smoke-")
        policy, tokenizer, reward_model_dir, classifier_dir, dataset = build_smoke_models(workdir)
        defaults.update(
            SMOKE,
            output_dir=f"{workdir}/run",
            diversity_classifier=classifier_dir,
            reward_model=reward_model_dir,
        )
    parser.set_defaults_with_config(**defaults)
    script_args, training_args = parser.parse_args_and_config(argv)
    if script_args.smoke and not smoke:
        # Smoke defaults must be in place before parsing; a `smoke: true` in a recipe file comes too late.
        raise ValueError("Pass --smoke on the command line, not in a --config file.")

    # The reward model's format (Athene-style v_head or scalar head) is read from its checkpoint.
    quality = RewardModelReward(
        script_args.reward_model,
        batch_size=script_args.reward_model_batch_size,
        device="cpu" if smoke else None,
        model_kwargs=None if smoke else {"dtype": "bfloat16"},  # the official runs scored in bfloat16
    )
    print(f"Quality reward: {quality!r}")  # head='athene' or head='scalar', as read from the checkpoint
    if smoke:
        model, processing_class = policy, tokenizer
    else:
        from datasets import load_dataset

        model, processing_class = script_args.model_name_or_path, None
        dataset = load_dataset(
            script_args.dataset_name, script_args.dataset_config, split=script_args.dataset_train_split
        )
        dataset = first_user_turns(dataset)
        if script_args.max_train_samples is not None:
            dataset = dataset.shuffle(seed=training_args.seed).select(
                range(min(script_args.max_train_samples, len(dataset)))
            )

    # The trainer drops prompts longer than --max_prompt_length tokens (chat template included), as the
    # official runs did.
    trainer = DarlingGRPOTrainer(
        model=model,
        # The diversity reward is built from --diversity_classifier; quality is the reward model's score.
        reward_funcs=[quality],
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
