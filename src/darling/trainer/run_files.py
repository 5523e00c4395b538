"""What a DARLING run saves beside its policy: the recipe, the reward, and how to reproduce the run."""

from __future__ import annotations

import os
import warnings
from typing import Any

from darling.rewards.math import MathAccuracyReward
from darling.trainer.recipe import RECIPE_FILE

REWARD_FOLDER = "darling_reward"


def reward_judge_mode(reward: Any) -> str:
    """``"reference"`` for a diversity classifier loaded from the Hub (no copy of its weights), else ``"copy"``."""
    classifier = reward.diversity.classifier
    name = getattr(classifier, "name_or_path", "") if classifier is not None else ""
    return "reference" if name and not os.path.exists(name) else "copy"


def save_run_files(recipe_args: Any, reward: Any, output_dir: str) -> list[str]:
    """Writes ``darling_config.yaml`` and ``darling_reward/`` into ``output_dir``; returns what was written.

    A piece that cannot be saved (a recipe field YAML cannot hold, a judge that is a plain callable)
    is skipped with a warning: the policy is saved anyway.
    """
    written = []
    try:
        recipe_args.save_recipe(output_dir)
        written.append(RECIPE_FILE)
    except TypeError as err:
        warnings.warn(f"The training recipe was not saved: {err}", UserWarning, stacklevel=3)
    try:
        reward.save_pretrained(os.path.join(output_dir, REWARD_FOLDER), judge=reward_judge_mode(reward))
        written.append(REWARD_FOLDER)
    except TypeError as err:
        warnings.warn(f"The DARLING reward was not saved: {err}", UserWarning, stacklevel=3)
    return written


def reproduce_section(
    recipe_args: Any, reward: Any, base_model: str | None, dataset_name: str | None, hub_id: str
) -> list[str]:
    """The model card's "Reproduce this run" section, for the files :func:`save_run_files` wrote."""
    output_dir = recipe_args.output_dir
    has_recipe = os.path.isfile(os.path.join(output_dir, RECIPE_FILE))
    has_reward = os.path.isdir(os.path.join(output_dir, REWARD_FOLDER))
    if not has_recipe:
        return []
    math = any(isinstance(func, MathAccuracyReward) for func in reward.quality_funcs)
    # examples/train_math.py runs every recipe; its defaults for the policy and prompts come from --recipe.
    flags = "" if math else " --recipe creative"
    flags += f" --model_name_or_path {base_model}" if base_model else ""
    flags += f" --dataset_name {dataset_name}" if dataset_name else ""
    lines = [
        "",
        "## Reproduce this run",
        "",
        f"`{RECIPE_FILE}` in this repository is the run's configuration (a `DarlingConfig`, in the format "
        "`--config` reads); with the [darling](https://github.com/darling-rl/darling) repository:",
        "",
        "```bash",
        f"accelerate launch examples/train_math.py --config {RECIPE_FILE}{flags}",
        "```",
        "",
    ]
    if not recipe_args.diversity_classifier:
        lines += [
            "The diversity reward of this run was given to the trainer, so the recipe names no "
            "`diversity_classifier`: add `--diversity_classifier` and `--diversity_kwargs` to the command, or "
            "train in Python with the saved reward below.",
            "",
        ]
    lines += [
        "In Python:",
        "",
        "```python",
        "from huggingface_hub import snapshot_download",
        "",
        "from darling.rewards import DarlingReward",
        "from darling.trainer import DarlingConfig",
        "",
        f'folder = snapshot_download("{hub_id}", allow_patterns=["{RECIPE_FILE}", "{REWARD_FOLDER}/*"])',
        "config = DarlingConfig.from_recipe(folder)",
    ]
    if has_reward:
        from darling.rewards.hub import reward_spec

        unsaved = [spec["name"] for spec in map(reward_spec, reward.quality_funcs) if spec["class"] is None]
        if unsaved:
            lines.append(f"# quality rewards saved by name only, pass them again: {', '.join(unsaved)}")
        quality = ", quality=[...]" if unsaved else ""
        lines.append(f'reward = DarlingReward.from_pretrained(f"{{folder}}/{REWARD_FOLDER}"{quality})')
    lines += ["```", ""]
    return lines
