"""The recipe files reproduce the official runs' settings.

The official values come from facebookresearch/darling at c07a323: ``verl/wildchat_scripts/darling.sh``
(chat: 64 prompts a batch, mini-batch default 256 prompts -> one update a batch, KL 0.001, prompts
<= 512 tokens, responses 1,024) and ``verl/math_scripts/darling.batch`` (math: 256 prompts, mini-batches
of 64 -> 4 updates, no KL, prompts <= 1,024 tokens, responses 8,192), with verl's actor defaults
(constant lr 1e-6, weight decay 0.01, grad clip 1.0, clip ratio 0.2, dual-clip c = 3, token-mean loss, one PPO
epoch, a KL loss not multiplied by the policy ratio, no importance weights between vLLM and the trainer).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from trl import TrlParser

from darling.trainer import DarlingConfig

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "examples" / "recipes"
GPUS = 8  # the recipes are written for one 8-GPU node

COMMON = {
    "num_generations": 8,
    "learning_rate": 1e-6,
    "lr_scheduler_type": "constant",
    "weight_decay": 0.01,
    "max_grad_norm": 1.0,
    "epsilon": 0.2,
    "loss_type": "dapo",
    "num_iterations": 1,
    "scale_rewards": "none",
    "fusion": "multiplicative",
    "negative_quality": "allow",
    "temperature": 1.0,
    "delta": 3.0,
    "vllm_importance_sampling_correction": False,
    "use_bias_correction_kl": False,
}
OFFICIAL = {
    "creative_llama_8b.yaml": {
        **COMMON,
        "beta": 0.001,
        "diversity_kwargs": {"threshold": 0.32, "mode": "all_pairs", "floor": 0.1},
        "max_prompt_length": 512,
        "max_completion_length": 1024,
        "prompts_per_generation_batch": 64,
        "updates_per_generation_batch": 1,
    },
    "math_qwen3_4b.yaml": {
        **COMMON,
        "beta": 0.0,
        "diversity_kwargs": {"threshold": 0.5, "mode": "all_pairs", "floor": 0.1},
        "max_prompt_length": 1024,
        "max_completion_length": 8192,
        "prompts_per_generation_batch": 256,
        "updates_per_generation_batch": 4,
    },
}


def _parse(recipe: str) -> DarlingConfig:
    parser = TrlParser([DarlingConfig])
    # Only the DarlingConfig fields of the recipe: the script's own fields belong to its ScriptArguments.
    (config, _rest) = parser.parse_args_and_config(
        ["--config", str(RECIPES / recipe), "--bf16", "false", "--use_cpu", "true"],
        return_remaining_strings=True,
    )
    return config


def _settings(config: DarlingConfig) -> dict:
    settings = {key: getattr(config, key) for key in OFFICIAL["math_qwen3_4b.yaml"] if hasattr(config, key)}
    settings["lr_scheduler_type"] = getattr(config.lr_scheduler_type, "value", config.lr_scheduler_type)
    # Parsed on one CPU process: size the generation batch for the recipe's 8 GPUs.
    rollouts = config.per_device_train_batch_size * GPUS * config.steps_per_generation
    settings["prompts_per_generation_batch"] = rollouts // config.num_generations
    settings["updates_per_generation_batch"] = (
        config.steps_per_generation // config.gradient_accumulation_steps
    )
    return settings


@pytest.mark.parametrize("recipe", sorted(OFFICIAL))
def test_recipe_files_set_every_official_value(recipe):
    assert _settings(_parse(recipe)) == OFFICIAL[recipe]


def test_darling_defaults_are_the_official_optimiser_settings(tmp_path):
    config = DarlingConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none")
    defaults = _settings(config)
    for key in (
        "learning_rate",
        "lr_scheduler_type",
        "weight_decay",
        "max_grad_norm",
        "epsilon",
        "loss_type",
        "delta",
        "vllm_importance_sampling_correction",
        "use_bias_correction_kl",
    ):
        assert defaults[key] == COMMON[key], key
    for key in (
        "num_iterations",
        "scale_rewards",
        "fusion",
        "negative_quality",
    ):
        assert defaults[key] == COMMON[key], key
