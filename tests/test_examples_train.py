"""The training examples run end to end in --smoke mode (tiny local models, offline, CPU)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", ["train_math.py", "train_creative.py"])
def test_training_example_smoke_mode_trains_with_darling_rewards(script, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / script),
            "--smoke",
            "--output_dir",
            str(tmp_path / "run"),
            "--logging_steps",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    # Both steps logged the fused reward next to its quality and diversity parts.
    assert output.count("'darling/fused_reward_mean'") == 2, output[-4000:]
    assert output.count("'darling/diversity_mean'") == 2 and output.count("'darling/quality_mean'") == 2
    if script == "train_creative.py":
        # Quality came from a tiny reward model saved in Athene-RM-8B's layout, detected as such.
        assert "Quality reward: RewardModelReward(" in output and "head='athene'" in output, output[-4000:]
        assert output.count("'darling/quality/reward_model_mean'") == 2


def _load_example(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("example", "recipe", "classifier", "threshold"),
    [
        ("train_math", "math_qwen3_4b.yaml", "dogtooth/qwen3-4b-emb-finetuned-step-70-hf", 0.5),
        ("train_creative", "creative_llama_8b.yaml", "dogtooth/similarity-classifier-f168-hf", 0.32),
    ],
)
def test_recipes_parse_into_the_paper_settings(example, recipe, classifier, threshold):
    from trl import TrlParser

    from darling.trainer import DarlingConfig

    module = _load_example("train_math")  # one script; the recipe file alone picks the recipe
    parser = TrlParser((module.DarlingScriptArguments, DarlingConfig))
    parser.set_defaults_with_config(**module.RECIPES["math"])
    # bf16/use_cpu overridden so the recipe parses on a CPU-only machine.
    script_args, config = parser.parse_args_and_config(
        ["--config", str(EXAMPLES / "recipes" / recipe), "--bf16", "false", "--use_cpu", "true"]
    )
    assert config.diversity_classifier == classifier
    assert config.diversity_kwargs == {"threshold": threshold, "mode": "all_pairs", "floor": 0.1}
    assert (config.fusion, config.scale_rewards) == ("multiplicative", "none")
    assert config.num_generations == 8 and config.learning_rate == 1e-6 and config.temperature == 1.0
    assert script_args.max_train_samples == 10_000
    # The file alone gives the recipe's batch shape, not the math defaults it was parsed over.
    assert (
        config.steps_per_generation == module.RECIPES[example.removeprefix("train_")]["steps_per_generation"]
    )
    assert script_args.quality_rewards == module.RECIPES[example.removeprefix("train_")]["quality_rewards"]
    assert script_args.prompt_format == module.RECIPES[example.removeprefix("train_")]["prompt_format"]


def test_recipe_defaults_apply_without_a_config_file():
    from trl import TrlParser

    from darling.trainer import DarlingConfig

    module = _load_example("train_math")
    parser = TrlParser((module.DarlingScriptArguments, DarlingConfig))
    parser.set_defaults_with_config(**module.RECIPES["math"])
    script_args, config = parser.parse_args_and_config(["--use_cpu", "true", "--num_generations", "16"])
    assert script_args.model_name_or_path == "Qwen/Qwen3-4B-Base"
    assert script_args.dataset_name == "agentica-org/DeepScaleR-Preview-Dataset"
    assert config.diversity_classifier == "dogtooth/qwen3-4b-emb-finetuned-step-70-hf"
    assert config.num_generations == 16  # a CLI flag overrides the recipe
    assert config.beta == 0.0


def test_creative_prompts_are_first_english_user_turns_and_length_is_filtered_by_the_trainer():
    """The official recipe's prompt-length filter is DarlingConfig.max_prompt_length (applied by the trainer)."""
    from datasets import Dataset

    module = _load_example("train_math")
    assert module.RECIPES["creative"]["max_prompt_length"] == 512
    wildchat = Dataset.from_list(
        [
            {"language": "English", "conversation": [{"role": "user", "content": "Write a poem."}]},
            {"language": "French", "conversation": [{"role": "user", "content": "Un poème."}]},
            {"language": "English", "conversation": [{"role": "user", "content": "   "}]},
        ]
    )
    assert module.first_user_turns(wildchat)["prompt"] == [[{"role": "user", "content": "Write a poem."}]]


def test_math_prompts_are_one_user_message_so_the_chat_template_applies():
    from datasets import Dataset

    module = _load_example("train_math")
    prompts = module.to_prompts(
        Dataset.from_dict({"problem": ["What is 2 + 3?"], "answer": ["5"]}), "problem"
    )
    assert prompts[0]["prompt"] == [{"role": "user", "content": f"What is 2 + 3?\n{module.INSTRUCTION}"}]


def test_unknown_recipe_or_reward_name_is_a_clear_error():
    module = _load_example("train_math")
    with pytest.raises(ValueError, match="Unknown --recipe 'chat'; choose one of math, creative"):
        module.main(["--recipe", "chat"])
    with pytest.raises(
        ValueError, match=r"Unknown quality reward\(s\) \['bleu'\].*math_accuracy, reward_model"
    ):
        module.main(["--use_cpu", "true", "--quality_rewards", "bleu"])
