"""DarlingConfig: the paper's defaults, validation with fix-it messages, YAML loading through TrlParser."""

from __future__ import annotations

import pytest
import torch
from trl import GRPOConfig, ScriptArguments, TrlParser

from darling.trainer import DarlingConfig


def _config(tmp_path, **kwargs) -> DarlingConfig:
    return DarlingConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **kwargs)


def test_paper_defaults(tmp_path):
    config = _config(tmp_path)
    assert isinstance(config, GRPOConfig)
    assert config.fusion == "multiplicative"
    assert config.scale_rewards == "none"
    assert config.beta == 0.0
    assert (config.diversity_classifier, config.diversity_kwargs) == (None, None)
    assert config.negative_quality == "allow"
    assert config.diversity_weight is None
    # The official verl scripts' optimiser settings.
    assert config.lr_scheduler_type.value == "constant"
    assert config.weight_decay == 0.01
    assert config.max_grad_norm == 1.0
    assert config.max_prompt_length is None
    # The official actor's loss: dual-clip c = 3, KL not ratio-weighted, no vLLM importance weights.
    assert config.delta == 3.0
    assert config.use_bias_correction_kl is False
    assert config.vllm_importance_sampling_correction is False


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--use_vllm"], False),
        (["--use_vllm", "--vllm_importance_sampling_correction", "true"], True),
    ],
)
def test_use_vllm_keeps_importance_weights_off_unless_asked_for(tmp_path, argv, expected):
    parser = TrlParser((ScriptArguments, DarlingConfig))
    base = ["--output_dir", str(tmp_path), "--use_cpu", "true", "--report_to", "none"]
    _, config = parser.parse_args_and_config([*base, *argv])
    assert config.use_vllm is True
    assert config.vllm_importance_sampling_correction is expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only bf16 default")
def test_bf16_defaults_off_without_an_accelerator_but_explicit_value_wins(tmp_path):
    assert DarlingConfig(output_dir=str(tmp_path), report_to="none").bf16 is False
    assert _config(tmp_path, bf16=True).bf16 is True


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fusion": "additive"}, "needs diversity_weight"),
        ({"diversity_weight": 0.5}, "only applies to fusion='additive'"),
        (
            {"fusion": "additive", "diversity_weight": float("nan")},
            "diversity_weight must be a finite number",
        ),
        ({"fusion": "additive", "diversity_weight": "abc"}, "diversity_weight must be a finite number"),
        ({"fusion": "sum"}, "set fusion to one of multiplicative, additive"),
        ({"negative_quality": "ignore"}, "choose one of allow, shift, shift_if_negative, clip, error"),
        (
            {"max_prompt_length": 0},
            "`max_prompt_length` must be a positive int or None, got 0. It counts prompt tokens",
        ),
        ({"diversity_kwargs": "{threshold: 0.3}"}, "diversity_kwargs must be a JSON object"),
        ({"diversity_kwargs": [0.3]}, "diversity_kwargs must be a dict"),
        ({"multi_objective_aggregation": "normalize_then_sum"}, "sum_then_normalize"),
        ({"num_generations": 1, "per_device_train_batch_size": 1}, "at least 2 generations"),
    ],
)
def test_invalid_combinations_fail_at_construction_with_the_fix(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _config(tmp_path, **kwargs)


def test_additive_with_weight_and_std_scaling_are_allowed(tmp_path):
    config = _config(tmp_path, fusion="additive", diversity_weight=0.5, scale_rewards="group")
    assert (config.fusion, config.diversity_weight, config.scale_rewards) == ("additive", 0.5, "group")


def test_loads_from_yaml_through_trl_parser(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "\n".join(
            [
                "dataset_name: my/prompts",
                f"output_dir: {tmp_path / 'run'}",
                "use_cpu: true",
                "report_to: none",
                "diversity_classifier: dogtooth/similarity-classifier-f168-hf",
                "diversity_kwargs:",
                "  threshold: 0.32",
                "  mode: greedy",
                "  short_text_rule: exact",
                "fusion: additive",
                "diversity_weight: 0.7",
                "negative_quality: clip",
                "num_generations: 4",
                "per_device_train_batch_size: 4",
                "beta: 0.001",
            ]
        )
    )
    parser = TrlParser((ScriptArguments, DarlingConfig))
    script_args, config = parser.parse_args_and_config(["--config", str(recipe), "--beta", "0.002"])
    assert script_args.dataset_name == "my/prompts"
    assert isinstance(config, DarlingConfig)
    assert config.diversity_classifier == "dogtooth/similarity-classifier-f168-hf"
    assert config.diversity_kwargs == {"threshold": 0.32, "mode": "greedy", "short_text_rule": "exact"}
    assert (config.fusion, config.diversity_weight, config.negative_quality) == ("additive", 0.7, "clip")
    assert config.beta == pytest.approx(0.002)  # CLI flag overrides the file
    assert config.num_generations == 4


def test_diversity_kwargs_parse_from_a_json_string_on_the_command_line(tmp_path):
    config = _config(tmp_path, diversity_kwargs='{"threshold": 0.32, "floor": 0.2}')
    assert config.diversity_kwargs == {"threshold": 0.32, "floor": 0.2}


def test_yaml_with_an_invalid_combination_fails_while_parsing(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(f"output_dir: {tmp_path}\nuse_cpu: true\nfusion: additive\n")
    with pytest.raises(ValueError, match="needs diversity_weight"):
        TrlParser((DarlingConfig,)).parse_args_and_config(["--config", str(recipe)])


def test_diversity_kwargs_are_typed_settings_checked_when_the_config_is_built(tmp_path):
    from darling.rewards import DiversitySettings

    config = _config(
        tmp_path, diversity_kwargs={"floor": 0.2, "mode": "greedy", "model_kwargs": {"dtype": "auto"}}
    )
    settings = config.diversity_settings
    assert isinstance(settings, DiversitySettings)
    assert (settings.floor, settings.mode, settings.model_kwargs, settings.threshold) == (
        0.2,
        "greedy",
        {"dtype": "auto"},
        None,
    )
    # The config keeps the plain dict it was given, so it still serialises to JSON.
    assert config.to_dict()["diversity_kwargs"] == {
        "floor": 0.2,
        "mode": "greedy",
        "model_kwargs": {"dtype": "auto"},
    }
    assert _config(tmp_path).diversity_settings == DiversitySettings()
    for bad, match in (
        ({"floor": 2.0}, r"`floor` must be in \[0, 1\]"),
        ({"batch_size": 0}, "`batch_size` must be a positive int"),
        ({"short_text_rule": "fuzzy"}, "Unknown short_text_rule 'fuzzy'"),
        ({"model_kwargs": "fp16"}, "`model_kwargs` must be a dict"),
    ):
        with pytest.raises((ValueError, TypeError), match=match):
            _config(tmp_path, diversity_kwargs=bad)
