"""The trainer's own loss equals the official DARLING actor's loss and gradient, for both recipes.

``../shared/fidelity/official_loss.json`` (beside the checkout, not shipped) holds what the official
actor (facebookresearch/darling c07a323: ``compute_policy_loss``, ``kl_penalty`` and ``agg_loss`` of
``verl/verl/trainer/ppo/core_algos.py``, composed as ``dp_actor.py`` does) back-propagates for one
micro-batch of fixed log-probs, and d loss / d log_prob, for the math case (no KL) and the chat
case (``low_var_kl``, coefficient 0.001). Here a real ``DarlingGRPOTrainer`` on a tiny local model is
configured from each recipe YAML; the fixture's log-probs replace what the model would compute (the
per-token log-prob function is patched to return them as a leaf tensor), and the loss runs through
TRL's ``_compute_loss`` as the trainer runs it. Loss and gradient must agree to 1e-6, so a TRL
release that changes its loss, or a recipe that drops ``delta`` or ``use_bias_correction_kl``, fails
here.

verl takes the token mean per micro-batch and TRL's ``loss_type="dapo"`` over the whole batch; the
fixture is one micro-batch, so the trainer here runs one micro-batch a step (batch settings
overridden, loss settings as in the recipe) and the two means coincide.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from trl import TrlParser

from darling.partitioning import CallableJudge
from darling.rewards import DiversityRewardFunction
from darling.tiny_models import tiny_causal_lm
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "examples" / "recipes"
FIXTURE = ROOT.parent / "shared" / "fidelity" / "official_loss.json"
TOLERANCE = 1e-6
# Fixture case (by name prefix) -> the recipe whose optimisation settings must reproduce it.
RECIPE_OF_CASE = {"math": "math_qwen3_4b.yaml", "chat": "creative_llama_8b.yaml"}
# The fixture's 4 sequences, all one micro-batch (one prompt group of 4 here).
ONE_MICRO_BATCH = {
    "per_device_train_batch_size": "4",
    "num_generations": "4",
    "gradient_accumulation_steps": "1",
    "steps_per_generation": "1",
}


def _fixture() -> dict:
    if not FIXTURE.is_file():
        pytest.skip(f"needs {FIXTURE} (../shared/fidelity beside the checkout, not shipped with the project)")
    return json.loads(FIXTURE.read_text())


def _case(name: str) -> dict:
    cases = [case for case in _fixture()["cases"] if case["name"].startswith(f"{name}:")]
    assert len(cases) == 1, f"official_loss.json should hold one {name!r} case"
    return cases[0]


def _recipe_config(recipe: str, tmp_path: Path) -> DarlingConfig:
    argv = ["--config", str(RECIPES / recipe), "--output_dir", str(tmp_path / "run"), "--bf16", "false"]
    argv += [
        "--use_cpu",
        "true",
        "--report_to",
        "none",
        "--max_completion_length",
        "6",
        "--save_strategy",
        "no",
    ]
    for key, value in ONE_MICRO_BATCH.items():
        argv += [f"--{key}", value]
    (config, _script_fields) = TrlParser([DarlingConfig]).parse_args_and_config(
        argv, return_remaining_strings=True
    )
    # The diversity reward is passed in below (a hand-made judge): the recipe's hub classifier is not loaded.
    config.diversity_classifier = None
    config.diversity_kwargs = None
    return config


class _ConstantQuality:
    __name__ = "constant_quality"

    def __call__(self, completions, **kwargs):
        return [1.0] * len(completions)


def _trainer(config: DarlingConfig) -> DarlingGRPOTrainer:
    model, tokenizer = tiny_causal_lm(hidden_size=32, num_layers=1)
    # Saved, so that the chat recipe's beta > 0 can load the reference model from the same folder.
    policy_dir = Path(config.output_dir).parent / "policy"
    model.save_pretrained(policy_dir)
    tokenizer.save_pretrained(policy_dir)
    diversity = DiversityRewardFunction(
        judge=CallableJudge(lambda a, b: a == b, short_text_rule="off"), floor=0.1
    )
    return DarlingGRPOTrainer(
        model=str(policy_dir),
        reward_funcs=[_ConstantQuality(), diversity],
        args=config,
        train_dataset=Dataset.from_dict({"prompt": ["2 + 2 =", "3 + 3 =", "4 + 4 =", "5 + 5 ="]}),
    )


def _loss_and_grad(
    trainer: DarlingGRPOTrainer, inputs: dict, monkeypatch, **extra
) -> tuple[float, torch.Tensor]:
    """Runs the trainer's loss on the fixture's log-probs; returns the loss and d loss / d log_prob."""
    log_prob = torch.tensor(inputs["log_prob"], dtype=torch.float32, requires_grad=True)
    mask = torch.tensor(inputs["response_mask"], dtype=torch.float32)
    batch, length = mask.shape

    def fixture_log_probs(model, input_ids, attention_mask, logits_to_keep, **kwargs):
        assert logits_to_keep == length
        # (per-token log-probs, entropies, aux loss), as TRL's _get_per_token_logps_and_entropies returns them.
        return log_prob, torch.zeros(batch, length), None

    monkeypatch.setattr(trainer, "_get_per_token_logps_and_entropies", fixture_log_probs)
    loss_inputs = {
        "prompt_ids": torch.ones(batch, 2, dtype=torch.long),
        "prompt_mask": torch.ones(batch, 2, dtype=torch.long),
        "completion_ids": torch.ones(batch, length, dtype=torch.long),
        "completion_mask": mask.long(),
        "advantages": torch.tensor(inputs["advantages_per_sequence"], dtype=torch.float32),
        "old_per_token_logps": torch.tensor(inputs["old_log_prob"], dtype=torch.float32),
        "ref_per_token_logps": torch.tensor(inputs["ref_log_prob"], dtype=torch.float32),
        # The generation batch's completion tokens: this one micro-batch.
        "num_items_in_batch": mask.sum(),
        **extra,
    }
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer's training loop: one micro-batch a step
    loss = trainer.compute_loss(trainer.model, loss_inputs)
    loss.backward()
    return loss.item(), log_prob.grad


def _assert_official(loss: float, grad: torch.Tensor, case: dict) -> None:
    assert loss == pytest.approx(case["loss"], abs=TOLERANCE, rel=0)
    expected = torch.tensor(case["grad_log_prob"], dtype=torch.float32)
    assert torch.allclose(grad, expected, atol=TOLERANCE, rtol=0), (grad - expected).abs().max().item()


@pytest.mark.parametrize("name", sorted(RECIPE_OF_CASE))
def test_recipe_loss_and_gradient_equal_the_official_actor(name, tmp_path, monkeypatch):
    case, inputs = _case(name), _fixture()["inputs"]
    trainer = _trainer(_recipe_config(RECIPE_OF_CASE[name], tmp_path))
    settings = case["settings"]
    # The recipe states the official settings the fixture was made with.
    assert (trainer.epsilon_low, trainer.epsilon_high) == (
        settings["clip_ratio_low"],
        settings["clip_ratio_high"],
    )
    assert trainer.args.delta == settings["clip_ratio_c"]
    assert trainer.beta == settings["kl_loss_coef"]
    loss, grad = _loss_and_grad(trainer, inputs, monkeypatch)
    _assert_official(loss, grad, case)


@pytest.mark.parametrize("name", sorted(RECIPE_OF_CASE))
def test_vllm_rollouts_get_no_importance_weights_under_the_recipe(name, tmp_path, monkeypatch):
    """With vLLM generating, the recipe's loss ignores the vLLM/trainer probability ratio, as officially."""
    case, inputs = _case(name), _fixture()["inputs"]
    trainer = _trainer(_recipe_config(RECIPE_OF_CASE[name], tmp_path))
    trainer.use_vllm = True  # what use_vllm=True sets; no vLLM is started for the loss alone
    weights = torch.linspace(0.2, 2.5, 24).reshape(4, 6)  # what TRL would multiply each token's loss by
    loss, grad = _loss_and_grad(trainer, inputs, monkeypatch, importance_sampling_ratio=weights)
    _assert_official(loss, grad, case)


@pytest.mark.parametrize(
    ("name", "reverted"),
    [
        ("math", {"delta": None}),  # GRPOConfig's default: no dual-clip
        ("chat", {"delta": None}),
        ("chat", {"use_bias_correction_kl": True}),  # GRPOConfig's default: KL times the policy ratio
    ],
)
def test_reverting_an_official_setting_breaks_parity(name, reverted, tmp_path, monkeypatch):
    """The fixture separates the settings: TRL's defaults (no dual-clip, ratio-weighted KL) give other numbers."""
    case, inputs = _case(name), _fixture()["inputs"]
    config = _recipe_config(RECIPE_OF_CASE[name], tmp_path)
    for key, value in reverted.items():
        setattr(config, key, value)
    trainer = _trainer(config)
    _loss, grad = _loss_and_grad(trainer, inputs, monkeypatch)
    expected = torch.tensor(case["grad_log_prob"], dtype=torch.float32)
    assert (grad - expected).abs().max().item() > 100 * TOLERANCE
