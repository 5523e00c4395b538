"""The reward functions train with plain TRL trainers (GRPO and RLOO) on a tiny local policy."""

from __future__ import annotations

import pytest

pytest.importorskip("trl")

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer

from darling.partitioning import LexicalJudge
from darling.rewards import DiversityRewardFunction, NGramDiversityReward
from darling.tiny_models import tiny_causal_lm


class LengthReward:
    """A picklable stand-in quality reward."""

    __name__ = "length"

    def __call__(self, completions, **kwargs):
        return [len(c) / 10 for c in completions]


def train(trainer_cls, config_cls, tokenizer, tmp_path, reward_funcs, **config):
    model, _ = tiny_causal_lm(tokenizer=tokenizer)
    dataset = Dataset.from_dict(
        {"prompt": ["Tell me a story", "Name a city", "What is two plus three?", "Hi"]}
    )
    args = config_cls(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        beta=0.0,
        seed=0,
        **config,
    )
    trainer = trainer_cls(
        model=model, reward_funcs=reward_funcs, args=args, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.train()
    return trainer.state.log_history[0]


@pytest.mark.parametrize("trainer_cls, config_cls", [(GRPOTrainer, GRPOConfig), (RLOOTrainer, RLOOConfig)])
def test_diversity_reward_trains_and_logs_with_plain_trl(trainer_cls, config_cls, causal_tokenizer, tmp_path):
    diversity = DiversityRewardFunction(judge=LexicalJudge(), num_generations=4)
    logs = train(trainer_cls, config_cls, causal_tokenizer, tmp_path, [LengthReward(), diversity])
    for name in ("darling/mean_classes", "darling/mean_diversity", "darling/settled_without_model"):
        assert name in logs, sorted(logs)
    assert "rewards/darling_diversity/mean" in logs
    assert logs["rewards/darling_diversity/mean"] == pytest.approx(logs["darling/mean_diversity"])
    assert 1 <= logs["darling/mean_classes"] <= 4
    # Plain TRL sums reward functions (weights 1).
    assert logs["reward"] == pytest.approx(
        logs["rewards/length/mean"] + logs["rewards/darling_diversity/mean"]
    )


def test_identical_rollouts_get_the_floor_inside_grpo(causal_tokenizer, tmp_path):
    diversity = DiversityRewardFunction(judge=LexicalJudge(), num_generations=4, floor=0.1)
    ngram = NGramDiversityReward(n=1, num_generations=4)
    logs = train(
        GRPOTrainer,
        GRPOConfig,
        causal_tokenizer,
        tmp_path,
        [diversity, ngram],
        generation_kwargs={"do_sample": False},
    )
    assert logs["darling/mean_classes"] == 1.0
    assert logs["rewards/darling_diversity/mean"] == pytest.approx(0.1)
    assert logs["rewards/ngram_diversity/mean"] == 0.0
