"""DARLING on TRL's own trainers, checked by running them (no test reads TRL's source).

- ``trl.GRPOTrainer`` with one ``DarlingReward`` and ``scale_rewards="none"`` gives the advantages of
  ``DarlingGRPOTrainer`` on the same batch and seed: the subclass adds nothing to TRL's loop.
- ``trl.RLOOTrainer`` trains on the fused reward (leave-one-out baseline over it).
- TRL calls reward functions the way ``DarlingReward`` expects (kwargs, ``log_metric``, ``log_extra``).
- ``DarlingGRPOTrainer`` overrides no private method of ``trl.GRPOTrainer``.

If a TRL upgrade breaks one of these, DARLING is no longer exact on that TRL version.
"""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

from darling.partitioning import CallableJudge
from darling.rewards import DarlingReward, DiversityRewardFunction
from darling.tiny_models import tiny_causal_lm
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

PROMPTS = ["Tell me a story", "What is two plus three", "Name a coffee shop", "Paris is the capital of"]
COMMON = dict(
    use_cpu=True,
    bf16=False,
    max_steps=2,
    per_device_train_batch_size=4,
    num_generations=4,
    max_completion_length=8,
    report_to="none",
    logging_steps=1,
    save_strategy="no",
    seed=0,
)


def length_class(a: str, b: str) -> bool:
    return len(a) % 3 == len(b) % 3


def signed_length_quality(prompts, completions, **kwargs):
    """Quality in {-2, -1, 0, 1}: negative too, so the 'shift' mode matters."""
    return [float(len(c) % 4) - 2.0 for c in completions]


def _diversity() -> DiversityRewardFunction:
    return DiversityRewardFunction(judge=CallableJudge(length_class, short_text_rule="off"), floor=0.1)


def _recording(trainer_cls):
    class Recording(trainer_cls):
        """Keeps what TRL hands to the loss (test-only)."""

        def _generate_and_score_completions(self, inputs):
            output = super()._generate_and_score_completions(inputs)
            self.recorded = [
                *getattr(self, "recorded", []),
                (output["completion_ids"].tolist(), output["advantages"].detach().clone()),
            ]
            return output

    return Recording


def _grpo_args_like(darling_args: DarlingConfig, output_dir: str) -> GRPOConfig:
    """A plain GRPOConfig with every setting DarlingConfig changes, read from the DarlingConfig itself."""
    grpo_fields = {f.name for f in GRPOConfig.__dataclass_fields__.values() if f.init}
    own = [name for name in DarlingConfig.__annotations__ if name in grpo_fields]
    return GRPOConfig(
        output_dir=output_dir, **{**COMMON, **{name: getattr(darling_args, name) for name in own}}
    )


@pytest.mark.parametrize("negative_quality", ["allow", "shift"])
def test_plain_grpo_trainer_with_the_fused_reward_equals_darling_grpo_trainer(tmp_path, negative_quality):
    darling_args = DarlingConfig(
        output_dir=str(tmp_path / "darling"), negative_quality=negative_quality, **COMMON
    )
    model, tokenizer = tiny_causal_lm()
    darling = _recording(DarlingGRPOTrainer)(
        model=model,
        reward_funcs=[signed_length_quality, _diversity()],
        args=darling_args,
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    darling.train()

    plain_args = _grpo_args_like(darling_args, str(tmp_path / "plain"))
    assert plain_args.scale_rewards == "none" and plain_args.beta == 0.0
    model, tokenizer = tiny_causal_lm()
    reward = DarlingReward(
        signed_length_quality, _diversity(), negative_quality=negative_quality, num_generations=4
    )
    plain = _recording(GRPOTrainer)(
        model=model,
        reward_funcs=[reward],
        args=plain_args,
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    plain.train()

    assert len(darling.recorded) == len(plain.recorded) == 2
    for (ids_a, adv_a), (ids_b, adv_b) in zip(darling.recorded, plain.recorded):
        assert ids_a == ids_b  # the same batch...
        assert torch.equal(adv_a, adv_b)  # ...gets the same advantages
    assert any(bool(adv.abs().sum() > 0) for _, adv in plain.recorded)  # a non-trivial batch
    history = [e["reward"] for e in plain.state.log_history if "reward" in e]
    assert history == pytest.approx([e["reward"] for e in darling.state.log_history if "reward" in e])


class RecordingReward(DarlingReward):
    """Keeps the fused rewards it returned (test-only)."""

    def __call__(self, *args, **kwargs):
        out = super().__call__(*args, **kwargs)
        self.returned = [*getattr(self, "returned", []), out]
        return out


def test_rloo_trainer_trains_on_the_fused_reward_with_a_leave_one_out_baseline(tmp_path):
    model, tokenizer = tiny_causal_lm()
    reward = RecordingReward(signed_length_quality, _diversity(), negative_quality="shift", num_generations=4)
    trainer = _recording(RLOOTrainer)(
        model=model,
        reward_funcs=[reward],
        args=RLOOConfig(output_dir=str(tmp_path), beta=0.0, **COMMON),
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    trainer.train()
    assert trainer.state.global_step == 2 and len(reward.returned) == 2
    for fused, (_, advantages) in zip(reward.returned, trainer.recorded):
        total = sum(fused)
        expected = [r - (total - r) / 3 for r in fused]  # each rollout minus the mean of the 3 others
        assert advantages.tolist() == pytest.approx(expected, abs=1e-5)
    logged = [e for e in trainer.state.log_history if "darling/fused_reward_mean" in e]
    assert len(logged) == 2 and all("darling/collapsed_groups" in e for e in logged)


def test_trl_calls_reward_functions_with_what_darling_reward_uses(tmp_path):
    seen = []

    def probe(prompts, completions, completion_ids, log_metric, log_extra, trainer_state, topic, **kwargs):
        seen.append((len(prompts), len(completions), len(completion_ids), topic, trainer_state.global_step))
        log_metric("probe/value", 1.0)
        log_extra("probe/column", list(range(len(completions))))
        return [1.0] * len(completions)

    probe.__name__ = "probe"
    model, tokenizer = tiny_causal_lm()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[probe],
        args=GRPOConfig(output_dir=str(tmp_path), **{**COMMON, "max_steps": 1}),
        train_dataset=Dataset.from_dict({"prompt": PROMPTS, "topic": ["t"] * 4}),
        processing_class=tokenizer,
    )
    trainer.train()
    assert seen == [(4, 4, 4, ["t"] * 4, 0)]
    assert [e["probe/value"] for e in trainer.state.log_history if "probe/value" in e] == [1.0]


def test_darling_grpo_trainer_overrides_no_private_grpo_trainer_method():
    model_card_metadata = {"_tag_names", "_name", "_paper"}
    private_of_trl = {
        name
        for cls in GRPOTrainer.__mro__
        for name in vars(cls)
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
    }
    ours = {name for name in vars(DarlingGRPOTrainer) if not (name.startswith("__") and name.endswith("__"))}
    assert (ours & private_of_trl) - model_card_metadata == set()
