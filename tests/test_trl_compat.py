"""Fails loudly, naming the TRL internal, when what DarlingGRPOTrainer relies on changes.

DarlingGRPOTrainer overrides ``GRPOTrainer._calculate_rewards`` (and extends
``create_model_card``) and depends on how ``_generate_and_score_completions`` turns the returned
rewards into advantages. If a TRL upgrade breaks one of these tests, re-read that TRL method and
update ``src/darling/trainer/grpo_trainer.py`` (and the TRL pin in pyproject.toml) together.
"""

from __future__ import annotations

import inspect

import pytest
import trl
from trl import GRPOConfig, GRPOTrainer

EXPECTED_PARAMETERS = {
    "_calculate_rewards": ["self", "inputs", "prompts", "completions", "completion_ids_list"],
    "_generate_and_score_completions": ["self", "inputs"],
    "create_model_card": ["self", "model_name", "dataset_name", "tags"],
}


@pytest.mark.parametrize("method", sorted(EXPECTED_PARAMETERS))
def test_overridden_trl_method_keeps_its_signature(method):
    assert hasattr(GRPOTrainer, method), f"trl {trl.__version__}: GRPOTrainer.{method} no longer exists."
    actual = list(inspect.signature(getattr(GRPOTrainer, method)).parameters)
    assert actual == EXPECTED_PARAMETERS[method], (
        f"trl {trl.__version__}: GRPOTrainer.{method} signature changed from {EXPECTED_PARAMETERS[method]} to "
        f"{actual}; DarlingGRPOTrainer must be updated."
    )


def test_init_still_takes_model_reward_funcs_and_args_first():
    params = list(inspect.signature(GRPOTrainer.__init__).parameters)
    assert params[:4] == ["self", "model", "reward_funcs", "args"], (
        f"trl {trl.__version__}: GRPOTrainer.__init__ parameters changed to {params[:4]}."
    )


@pytest.mark.parametrize(
    "fragment",
    [
        # The fused column we append is selected by the weights in this weighted nansum...
        "rewards_per_func = self._calculate_rewards(inputs, prompts, completions, completion_ids_list)",
        "(rewards_per_func * self.reward_weights.to(device).unsqueeze(0)).nansum(dim=1)",
        # ...rows that are all-NaN are unscorable (advantage 0, out of the baseline)...
        "unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)",
        # ...the advantage is reward - group mean, std division only when scale_rewards != "none"...
        "advantages = rewards - mean_grouped_rewards",
        'if self.scale_rewards != "none":',
        # ...and the per-function metrics iterate over the reward function names, not the columns.
        "for i, reward_func_name in enumerate(self.reward_func_names):",
        "self._metrics[mode]",
    ],
)
def test_generate_and_score_completions_still_uses_rewards_the_way_we_rely_on(fragment):
    source = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    assert fragment in source, (
        f"trl {trl.__version__}: GRPOTrainer._generate_and_score_completions no longer contains {fragment!r}; "
        "check that DarlingGRPOTrainer._calculate_rewards still feeds the fused reward into the advantages."
    )


def test_calculate_rewards_still_gathers_across_processes():
    source = inspect.getsource(GRPOTrainer._calculate_rewards)
    assert "gather(rewards_per_func)" in source, (
        f"trl {trl.__version__}: GRPOTrainer._calculate_rewards no longer returns gathered rewards; "
        "DarlingGRPOTrainer fuses on the gathered tensor."
    )


def test_grpo_config_fields_we_override_or_check_exist():
    fields = GRPOConfig.__dataclass_fields__
    for name in (
        "scale_rewards",
        "beta",
        "bf16",
        "reward_weights",
        "multi_objective_aggregation",
        "num_generations",
    ):
        assert name in fields, f"trl {trl.__version__}: GRPOConfig.{name} no longer exists."


def test_pinned_trl_range():
    major, minor = (int(x) for x in trl.__version__.split(".")[:2])
    assert (major, minor) == (1, 16), (
        f"DarlingGRPOTrainer is tested against trl 1.16.x, found {trl.__version__}; re-run these checks and "
        "update the pin in pyproject.toml."
    )
