"""DarlingConfig recipes (save, push, load, read by TrlParser) and what DarlingGRPOTrainer saves and pushes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml
from datasets import Dataset
from huggingface_hub import snapshot_download
from trl import TrlParser

from darling.partitioning import CallableJudge, LexicalJudge
from darling.rewards import DarlingReward, DiversityRewardFunction, MathAccuracyReward
from darling.tiny_models import tiny_causal_lm
from darling.trainer import DarlingConfig, DarlingGRPOTrainer
from hub_http import serve_fake_hub


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """The Hub replaced at huggingface_hub's HTTP layer (see hub_http.py), downloading into tmp_path."""
    yield from serve_fake_hub(monkeypatch, str(tmp_path / "hub-cache"))


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _config(tmp_path, **kwargs) -> DarlingConfig:
    base = dict(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        report_to="none",
        save_strategy="no",
        learning_rate=2e-6,
        lr_scheduler_type="cosine",
        gradient_accumulation_steps=2,
        diversity_classifier="someone/partition-classifier",
        diversity_kwargs={"threshold": 0.3, "floor": 0.2, "mode": "greedy"},
        reward_weights=[1.0, 0.5],
        fusion="additive",
        diversity_weight=0.5,
    )
    return DarlingConfig(**{**base, **kwargs})


def _differences(a: DarlingConfig, b: DarlingConfig) -> list[str]:
    return [f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)]


def test_a_saved_recipe_reads_back_through_trl_parser_as_an_equal_config(tmp_path):
    config = _config(tmp_path)
    config.beta = 0.01  # changed after construction: recorded too
    path = config.save_recipe(tmp_path / "recipe")
    (parsed,) = TrlParser((DarlingConfig,)).parse_args_and_config(["--config", path])
    assert parsed == config and _differences(parsed, config) == []
    assert DarlingConfig.from_recipe(tmp_path / "recipe") == config
    assert DarlingConfig.from_recipe(path) == config
    values = yaml.safe_load(Path(path).read_text())
    # Set fields as set, the others at their defaults: never a derived value (steps_per_generation, generation_batch_size).
    assert values["lr_scheduler_type"] == "cosine" and values["beta"] == 0.01
    assert values["steps_per_generation"] is None and values["generation_batch_size"] is None
    assert "steps_per_generation" not in config.recipe() and config.recipe()["beta"] == 0.01
    short = config.save_recipe(tmp_path / "short", every_field=False)
    assert yaml.safe_load(Path(short).read_text()) == config.recipe()
    assert DarlingConfig.from_recipe(short) == config


def test_the_math_example_rebuilds_the_saved_config_over_its_own_defaults(tmp_path):
    """The card's `--config darling_config.yaml`: the example's recipe defaults must not leak into the run."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("example_train_math", EXAMPLES / "train_math.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    config = _config(tmp_path)  # per_device_train_batch_size 4, max_completion_length 8, learning_rate 2e-6
    path = config.save_recipe(tmp_path)
    recipe = module.RECIPES["math"]  # 16 a device, 8192 tokens, lr 1e-6, prompts <= 1024 tokens
    assert recipe["max_prompt_length"] == 1024 and config.max_prompt_length is None
    parser = TrlParser((module.DarlingScriptArguments, DarlingConfig))
    parser.set_defaults_with_config(**recipe)
    _, parsed = parser.parse_args_and_config(["--config", path])
    assert parsed == config
    # Without the defaults written out, the example's own would replace them.
    short = config.save_recipe(tmp_path / "short", every_field=False)
    parser = TrlParser((module.DarlingScriptArguments, DarlingConfig))
    parser.set_defaults_with_config(**recipe)
    _, parsed = parser.parse_args_and_config(["--config", short])
    assert parsed.max_prompt_length == 1024


def test_a_recipe_holds_no_token_and_no_server_urls_and_asks_for_the_servers_again(tmp_path):
    config = _config(
        tmp_path,
        hub_token="hf_secret_token",
        diversity_servers=["http://node1:8000", "http://node1:8001"],
        diversity_kwargs={"threshold": 0.3},
    )
    path = config.save_recipe(tmp_path)
    text = Path(path).read_text()
    assert "hf_secret_token" not in text and "node1" not in text
    assert yaml.safe_load(text)["diversity_kwargs"] == {"threshold": 0.3, "server_options": {}}
    with pytest.raises(ValueError, match=r"diversity_servers is not set: name the servers"):
        DarlingConfig.from_recipe(path)
    loaded = DarlingConfig.from_recipe(path, diversity_servers=["http://node2:8000"], hub_token="hf_other")
    assert loaded.diversity_servers == ["http://node2:8000"]
    assert _differences(loaded, config) == ["hub_token", "diversity_servers", "diversity_kwargs"]


def test_from_recipe_overrides_fields_and_names_unknown_keys(tmp_path):
    path = _config(tmp_path).save_recipe(tmp_path)
    assert DarlingConfig.from_recipe(path, output_dir=str(tmp_path / "other")).output_dir == str(
        tmp_path / "other"
    )
    with pytest.raises(ValueError, match="set no_such_field, which are not DarlingConfig fields"):
        DarlingConfig.from_recipe(path, no_such_field=1)


def test_push_recipe_uploads_the_yaml_file(tmp_path, fake_hub):
    config = _config(tmp_path)
    config.push_recipe_to_hub("someone/darling-run")
    commit = fake_hub.last
    assert commit["repo_id"] == "someone/darling-run" and list(commit["files"]) == ["darling_config.yaml"]
    assert DarlingConfig.from_recipe("someone/darling-run") == config


def _length_quality(completions, **kwargs):
    return [float(len(c) % 4) for c in completions]


def _trainer(tmp_path, reward_funcs, **kwargs):
    model, tokenizer = tiny_causal_lm()
    plain = dict(
        diversity_classifier=None, diversity_kwargs=None, fusion="multiplicative", diversity_weight=None
    )
    args = _config(tmp_path, **{**plain, "reward_weights": None, "max_steps": 1, **kwargs})
    return DarlingGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=Dataset.from_dict({"prompt": ["a b", "c d", "e f", "g h"]}),
        processing_class=tokenizer,
    )


def test_trainer_push_uploads_policy_recipe_reward_and_a_card_that_says_how_to_reproduce(tmp_path, fake_hub):
    diversity = DiversityRewardFunction(judge=LexicalJudge(threshold=0.4), floor=0.2)
    trainer = _trainer(
        tmp_path, [MathAccuracyReward(), _length_quality, diversity], reward_weights=[1.0, 0.5, 1.0],
        hub_model_id="someone/tiny-darling",
    )  # fmt: skip
    trainer.push_to_hub(dataset_name="someone/problems")
    files = fake_hub.last["files"]
    assert fake_hub.last["repo_id"] == "someone/tiny-darling"
    assert {"model.safetensors", "config.json", "darling_config.yaml", "README.md"} <= set(files)
    assert {"darling_reward/darling_reward.json", "darling_reward/diversity/darling_reward.json"} <= set(
        files
    )
    card = files["README.md"].decode()
    assert "accelerate launch examples/train_math.py --config darling_config.yaml" in card
    assert "--dataset_name someone/problems" in card and "_length_quality" in card
    assert "so the recipe names no `diversity_classifier`" in card  # the reward was given as an object
    # The pushed recipe is the config as the user gave it (reward weights included), not the trainer's copy.
    # As the card says: download the recipe and the reward, then load them.
    pulled = Path(
        snapshot_download("someone/tiny-darling", allow_patterns=["darling_config.yaml", "darling_reward/*"])
    )
    assert sorted(p.name for p in pulled.iterdir()) == ["darling_config.yaml", "darling_reward"]
    assert DarlingConfig.from_recipe(pulled) == trainer.recipe_args
    assert DarlingConfig.from_recipe(pulled).reward_weights == [1.0, 0.5, 1.0]
    saved = json.loads(files["darling_reward/darling_reward.json"])
    assert saved["quality_weights"] == [1.0, 0.5] and saved["quality"][1] == {
        "name": "_length_quality",
        "class": None,
    }
    reward = DarlingReward.from_pretrained(
        pulled / "darling_reward", quality=[MathAccuracyReward(), _length_quality]
    )
    kwargs = dict(prompts=["p"] * 4, completions=["\\boxed{4}", "a b c", "\\boxed{4}", "z"], answer=["4"] * 4)
    assert reward(**kwargs) == trainer.darling_reward(**kwargs)


def test_a_reward_that_cannot_be_saved_does_not_stop_the_policy_from_saving(tmp_path):
    diversity = DiversityRewardFunction(judge=CallableJudge(lambda a, b: a == b))
    trainer = _trainer(tmp_path, [_length_quality, diversity])
    with pytest.warns(UserWarning, match="The DARLING reward was not saved: .*cannot be saved"):
        trainer.save_model()
    run = tmp_path / "run"
    assert (run / "model.safetensors").is_file() and (run / "darling_config.yaml").is_file()
    assert not (run / "darling_reward").exists()


def test_a_field_yaml_cannot_hold_is_named(tmp_path):
    import torch

    config = _config(tmp_path, model_init_kwargs={"dtype": torch.float32})
    with pytest.raises(TypeError, match=r"DarlingConfig.model_init_kwargs holds a dtype"):
        config.save_recipe(tmp_path / "recipe")
    assert not (tmp_path / "recipe" / "darling_config.yaml").exists()


def test_the_trainer_references_a_hub_classifier_and_copies_any_other(saved_classifier):
    from darling.trainer.run_files import reward_judge_mode

    local = DiversityRewardFunction.from_pretrained(saved_classifier)
    reward = DarlingReward(_length_quality, local)
    assert reward_judge_mode(reward) == "copy"
    local.classifier.model.config._name_or_path = "someone/partition-classifier"  # as loaded from the Hub
    try:
        assert reward_judge_mode(reward) == "reference"
    finally:
        local.classifier.model.config._name_or_path = saved_classifier
    assert (
        reward_judge_mode(DarlingReward(_length_quality, DiversityRewardFunction(judge=LexicalJudge())))
        == "copy"
    )
