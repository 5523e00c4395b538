"""DarlingGRPOTrainer on a tiny local policy: fused advantages, floors, logging, resume, bad input."""

from __future__ import annotations

import warnings

import pytest
from datasets import Dataset

from darling.partitioning import CallableJudge, ExactMatchJudge
from darling.rewards import DiversityRewardFunction
from darling.tiny_models import tiny_causal_lm
from darling.trainer import DarlingConfig, DarlingGRPOTrainer

PROMPTS = ["Tell me a story", "What is two plus three", "Name a coffee shop", "Paris is the capital of"]
FLOOR = 0.1


def length_class(a: str, b: str) -> bool:
    """A hand-made judge: equivalent iff the lengths agree modulo 3 (a transitive relation)."""
    return len(a) % 3 == len(b) % 3


def never_equivalent(a: str, b: str) -> bool:
    return False


class LengthQuality:
    """Quality = character length modulo 4; records what it saw. ``none_at`` rows return None."""

    __name__ = "length_quality"

    def __init__(self, offset: float = 0.0, none_at: tuple[int, ...] = (), drop_last: bool = False):
        self.offset, self.none_at, self.drop_last = offset, none_at, drop_last
        self.seen: list[tuple[list[str], list[float | None]]] = []

    def __call__(self, prompts, completions, **kwargs):
        texts = [c if isinstance(c, str) else c[0]["content"] for c in completions]
        values = [
            None if i % 4 in self.none_at else float(len(t) % 4) + self.offset for i, t in enumerate(texts)
        ]
        self.seen.append((texts, values))
        return values[:-1] if self.drop_last else values


class RecordingTrainer(DarlingGRPOTrainer):
    """Keeps the advantages TRL hands to the loss."""

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        self.recorded = [*getattr(self, "recorded", []), output["advantages"].detach().clone()]
        return output


@pytest.fixture(scope="module")
def policy():
    return tiny_causal_lm()


def _args(tmp_path, **kwargs) -> DarlingConfig:
    base = dict(
        output_dir=str(tmp_path / "run"),
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
    base.update(kwargs)
    return DarlingConfig(**base)


def _trainer(policy, tmp_path, reward_funcs, cls=RecordingTrainer, dataset=None, **kwargs):
    model, tokenizer = policy
    return cls(
        model=model,
        reward_funcs=reward_funcs,
        args=_args(tmp_path, **kwargs),
        train_dataset=dataset if dataset is not None else Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )


def _diversity(judge) -> DiversityRewardFunction:
    return DiversityRewardFunction(judge=CallableJudge(judge, short_text_rule="off"), floor=FLOOR)


def _expected_advantages(texts: list[str], quality: list[float | None]) -> list[float]:
    """DESIGN.md by hand: Div = max((n - |C|)/(n - 1), floor), r = q * Div, A = r - mean over scored rollouts."""
    n = len(texts)
    sizes = [sum(len(u) % 3 == len(t) % 3 for u in texts) for t in texts]
    fused = [None if q is None else q * max((n - size) / (n - 1), FLOOR) for q, size in zip(quality, sizes)]
    scored = [r for r in fused if r is not None]
    mean = sum(scored) / len(scored)
    return [0.0 if r is None else r - mean for r in fused]


def _length_classes(texts: list[str]) -> list[int]:
    """Class ids of length_class, numbered in order of first occurrence."""
    ids: dict[int, int] = {}
    return [ids.setdefault(len(t) % 3, len(ids)) for t in texts]


def _logged(trainer, key: str) -> list[float]:
    return [entry[key] for entry in trainer.state.log_history if key in entry]


def test_advantages_equal_quality_times_diversity_minus_group_mean(policy, tmp_path):
    quality = LengthQuality()
    trainer = _trainer(policy, tmp_path, [quality, _diversity(length_class)])
    trainer.train()
    assert len(trainer.recorded) == 2 and len(quality.seen) == 2
    for advantages, (texts, values) in zip(trainer.recorded, quality.seen):
        assert advantages.tolist() == pytest.approx(_expected_advantages(texts, values), abs=1e-6)
    for key in ("darling/quality_mean", "darling/diversity_mean", "darling/fused_reward_mean"):
        assert len(_logged(trainer, key)) == 2
    # TRL's "reward" metric is the fused reward (TRL's one reward function); each quality function keeps its mean.
    assert trainer.reward_func_names == ["darling"]
    assert _logged(trainer, "reward") == pytest.approx(_logged(trainer, "darling/fused_reward_mean"))
    assert _logged(trainer, "rewards/darling/mean") == pytest.approx(
        _logged(trainer, "darling/fused_reward_mean")
    )
    assert _logged(trainer, "darling/quality/length_quality_mean") == pytest.approx(
        [sum(values) / len(values) for _, values in quality.seen]
    )
    assert _logged(trainer, "darling/mean_diversity") == pytest.approx(
        _logged(trainer, "darling/diversity_mean")
    )
    assert _logged(trainer, "darling/collapsed_groups") == [
        float(len(set(_length_classes(texts))) == 1) for texts, _ in quality.seen
    ]
    # TRL's completions table (the last generation batch) holds each rollout's class id, diversity and quality.
    table = trainer._logs  # test-only peek at what TRL sends to its completions table
    texts, values = quality.seen[-1]
    assert list(table["completion"]) == texts
    assert list(table["extra"]["darling/class"]) == _length_classes(texts)
    assert list(table["extra"]["darling/quality"]) == values
    assert len(table["extra"]["darling/diversity"]) == len(texts)


def test_none_quality_rollouts_get_zero_advantage_and_leave_the_baseline(policy, tmp_path):
    quality = LengthQuality(none_at=(0,))
    trainer = _trainer(policy, tmp_path, [quality, _diversity(length_class)], max_steps=1)
    trainer.train()
    texts, values = quality.seen[0]
    assert values[0] is None
    advantages = trainer.recorded[0].tolist()
    assert advantages[0] == 0.0
    assert advantages == pytest.approx(_expected_advantages(texts, values), abs=1e-6)


def test_identical_rollouts_all_get_the_floor(policy, tmp_path):
    diversity = DiversityRewardFunction(judge=ExactMatchJudge(), floor=FLOOR)
    trainer = _trainer(
        policy, tmp_path, [LengthQuality(), diversity], max_steps=1, generation_kwargs={"do_sample": False}
    )
    trainer.train()
    assert _logged(trainer, "darling/diversity_mean") == pytest.approx([FLOOR])
    # Identical rollouts have identical quality: every advantage is 0.
    assert all(a == 0.0 for step in trainer.recorded for a in step.tolist())


def test_all_distinct_rollouts_all_get_one(policy, tmp_path):
    trainer = _trainer(policy, tmp_path, [LengthQuality(), _diversity(never_equivalent)], max_steps=1)
    trainer.train()
    assert _logged(trainer, "darling/diversity_mean") == pytest.approx([1.0])
    assert _logged(trainer, "darling/fused_reward_mean") == pytest.approx(
        _logged(trainer, "darling/quality_mean")
    )


def test_conversational_prompts_are_scored_on_assistant_text(policy, tmp_path):
    chat = Dataset.from_dict({"prompt": [[{"role": "user", "content": p}] for p in PROMPTS]})
    diversity = DiversityRewardFunction(judge=ExactMatchJudge(), floor=FLOOR)
    trainer = _trainer(
        policy,
        tmp_path,
        [LengthQuality(), diversity],
        dataset=chat,
        max_steps=1,
        generation_kwargs={"do_sample": False},
    )
    trainer.train()
    assert _logged(trainer, "darling/diversity_mean") == pytest.approx([FLOOR])


def test_negative_quality_is_multiplied_raw_by_default_and_warns_once_naming_the_fix(policy, tmp_path):
    trainer = _trainer(policy, tmp_path, [LengthQuality(offset=-5.0), _diversity(length_class)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train()
    messages = [str(w.message) for w in caught if "Quality rewards are negative" in str(w.message)]
    assert len(messages) == 1
    assert "negative_quality='allow'" in messages[0] and "negative_quality='shift'" in messages[0]
    # Raw multiplication (the official default): every quality is negative, so is every fused reward.
    assert max(_logged(trainer, "darling/fused_reward_mean")) < 0.0


def test_negative_quality_shift_is_opt_in_and_does_not_warn(policy, tmp_path):
    trainer = _trainer(
        policy, tmp_path, [LengthQuality(offset=-5.0), _diversity(length_class)], negative_quality="shift"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train()
    assert not [w for w in caught if "Quality rewards are negative" in str(w.message)]
    # After the per-group min shift every fused reward is >= 0.
    assert min(_logged(trainer, "darling/fused_reward_mean")) >= 0.0


def test_negative_quality_error_mode_raises_a_clear_error(policy, tmp_path):
    trainer = _trainer(
        policy,
        tmp_path,
        [LengthQuality(offset=-5.0), _diversity(length_class)],
        negative_quality="error",
        max_steps=1,
    )
    with pytest.raises(ValueError, match="negative quality rewards"):
        trainer.train()


def test_resume_from_checkpoint_continues_from_the_same_step(policy, tmp_path):
    first = _trainer(
        policy, tmp_path, [LengthQuality(), _diversity(length_class)], save_strategy="steps", save_steps=1
    )
    first.train()
    checkpoint = tmp_path / "run" / "checkpoint-2"
    assert checkpoint.is_dir()
    model, tokenizer = tiny_causal_lm()
    resumed = RecordingTrainer(
        model=model,
        reward_funcs=[LengthQuality(), _diversity(length_class)],
        args=_args(tmp_path, max_steps=3, save_strategy="steps", save_steps=1),
        train_dataset=Dataset.from_dict({"prompt": PROMPTS}),
        processing_class=tokenizer,
    )
    resumed.train(resume_from_checkpoint=str(checkpoint))
    assert resumed.state.global_step == 3
    assert [e["step"] for e in resumed.state.log_history if "darling/fused_reward_mean" in e][-1] == 3
    assert len(resumed.recorded) == 1  # only step 3 was generated after resuming


def test_model_card_names_darling_the_paper_and_the_judge(policy, tmp_path):
    trainer = _trainer(policy, tmp_path, [LengthQuality(), _diversity(length_class)], max_steps=1)
    trainer.create_model_card(model_name="tiny-darling")
    card = (tmp_path / "run" / "README.md").read_text()
    assert "DARLING" in card and "2509.02534" in card
    assert "## DARLING settings" in card and "Diversity judge: `CallableJudge(length_class)`" in card
    assert "darling" in trainer.model.model_tags


def test_diversity_reward_gets_num_generations_from_the_config(policy, tmp_path):
    diversity = _diversity(length_class)
    assert diversity.num_generations is None
    _trainer(policy, tmp_path, [LengthQuality(), diversity])
    assert diversity.num_generations == 4


def test_builds_the_diversity_reward_from_the_config(policy, tmp_path, saved_classifier):
    trainer = _trainer(
        policy,
        tmp_path,
        [LengthQuality()],
        diversity_classifier=saved_classifier,
        diversity_kwargs={"threshold": 0.32, "mode": "greedy", "floor": 0.2},
        reward_weights=[2.0],
    )
    reward = trainer.diversity_reward
    assert (reward.classifier_id, reward.mode, reward.floor, reward.judge.threshold) == (
        saved_classifier,
        "greedy",
        0.2,
        0.32,
    )
    # TRL sees one reward function, the fused one, which holds the quality weights.
    assert trainer.reward_func_names == ["darling"]
    assert trainer.reward_weights.tolist() == [1.0]
    assert trainer.darling_reward.quality_names == ["length_quality"]
    assert trainer.darling_reward.quality_weights == [2.0]


def test_bad_threshold_fails_when_the_classifier_is_loaded(policy, tmp_path, saved_classifier):
    with pytest.raises(ValueError, match="threshold must be a number in"):
        _trainer(
            policy,
            tmp_path,
            [LengthQuality()],
            diversity_classifier=saved_classifier,
            diversity_kwargs={"threshold": 3.0},
        )


@pytest.mark.parametrize(
    ("diversity_kwargs", "match"),
    [
        ({"floors": 0.2}, "unknown setting.*'floors'.*the settings are threshold, mode, floor"),
        ({"mode": "pairs"}, "Unknown partition mode 'pairs'"),
    ],
)
def test_bad_diversity_kwargs_fail_when_the_config_is_built(
    policy, tmp_path, saved_classifier, diversity_kwargs, match
):
    with pytest.raises(ValueError, match=match):
        _args(tmp_path, diversity_classifier=saved_classifier, diversity_kwargs=diversity_kwargs)


@pytest.mark.parametrize(
    ("reward_funcs", "kwargs", "error", "match"),
    [
        ("quality_only", {}, ValueError, "set DarlingConfig.diversity_classifier"),
        ("diversity_only", {}, ValueError, "at least one quality reward"),
        ("two_diversity", {}, ValueError, "keep exactly one"),
        ("both", {"reward_weights": [1.0, 0.5]}, ValueError, "set that entry to 1.0"),
        ("both", {"reward_weights": [1.0, 1.0, 1.0]}, ValueError, "one weight per reward function"),
        ("both", {"reward_weights": [0.0, 1.0]}, ValueError, "every quality function weight 0"),
        ("reward_model_id", {}, TypeError, "Wrap a reward model in darling.rewards.RewardModelReward"),
    ],
)
def test_bad_reward_setups_fail_with_a_fix(policy, tmp_path, reward_funcs, kwargs, error, match):
    funcs = {
        "quality_only": [LengthQuality()],
        "diversity_only": [_diversity(length_class)],
        "two_diversity": [LengthQuality(), _diversity(length_class), _diversity(never_equivalent)],
        "both": [LengthQuality(), _diversity(length_class)],
        "reward_model_id": ["Nexusflow/Athene-RM-8B", _diversity(length_class)],
    }[reward_funcs]
    with pytest.raises(error, match=match):
        _trainer(policy, tmp_path, funcs, **kwargs)


def test_plain_grpo_config_is_rejected(policy, tmp_path):
    from trl import GRPOConfig

    model, _ = policy
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none")
    with pytest.raises(TypeError, match="needs a DarlingConfig"):
        DarlingGRPOTrainer(model=model, reward_funcs=[LengthQuality(), _diversity(length_class)], args=args)


def test_quality_reward_with_the_wrong_length_fails_naming_the_function(policy, tmp_path):
    trainer = _trainer(
        policy, tmp_path, [LengthQuality(drop_last=True), _diversity(length_class)], max_steps=1
    )
    with pytest.raises(ValueError, match="'length_quality' returned 3 rewards, but 4 were expected"):
        trainer.train()


def test_config_classifier_is_ignored_with_a_warning_when_a_diversity_reward_is_passed(policy, tmp_path):
    with pytest.warns(
        UserWarning, match="diversity_classifier='some/classifier' ignored: reward_funcs already"
    ):
        trainer = _trainer(
            policy,
            tmp_path,
            [LengthQuality(), _diversity(length_class)],
            diversity_classifier="some/classifier",
        )
    assert isinstance(trainer.diversity_reward.judge, CallableJudge)
    with pytest.warns(UserWarning, match=r"diversity_kwargs=\{'floor': 0.5\} ignored"):
        trainer = _trainer(
            policy, tmp_path, [LengthQuality(), _diversity(length_class)], diversity_kwargs={"floor": 0.5}
        )
    assert trainer.diversity_reward.floor != 0.5


def test_empty_completions_form_one_class_and_get_the_floor(policy, tmp_path):
    _, tokenizer = policy
    # Suppressing every token but EOS makes every rollout end at once: empty completions.
    suppress = [i for i in range(len(tokenizer)) if i != tokenizer.eos_token_id]
    quality = LengthQuality()
    diversity = DiversityRewardFunction(judge=ExactMatchJudge(normalize=False), floor=FLOOR)
    trainer = _trainer(
        policy, tmp_path, [quality, diversity], max_steps=1, generation_kwargs={"suppress_tokens": suppress}
    )
    trainer.train()
    assert quality.seen[0][0] == ["", "", "", ""]
    assert _logged(trainer, "darling/diversity_mean") == pytest.approx([FLOOR])
    assert trainer.recorded[0].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_classifier_loads_outside_zero3_partitioning_and_the_setting_is_restored():
    from transformers.integrations.deepspeed import (
        is_deepspeed_zero3_enabled,
        set_hf_deepspeed_config,
        unset_hf_deepspeed_config,
    )

    from darling.trainer.grpo_trainer import full_weights_under_zero3

    class FakeZero3Config:
        config: dict = {}  # noqa: RUF012

        def is_zero3(self) -> bool:
            return True

    fake = FakeZero3Config()
    set_hf_deepspeed_config(fake)
    try:
        assert is_deepspeed_zero3_enabled()
        with full_weights_under_zero3():
            assert not is_deepspeed_zero3_enabled()
        assert is_deepspeed_zero3_enabled()
    finally:
        unset_hf_deepspeed_config()
    with full_weights_under_zero3():  # a no-op without DeepSpeed
        assert not is_deepspeed_zero3_enabled()


def test_max_prompt_length_drops_long_prompts_with_the_trainers_own_tokenization(policy, tmp_path):
    _, tokenizer = policy
    short, long = "Hi", "Tell me a very long story about a dragon who loved to read many books " * 3
    conversational = [[{"role": "user", "content": text}] for text in (short, long, short, long)]
    lengths = [
        len(
            tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True, return_dict=True)[
                "input_ids"
            ]
        )
        for p in conversational
    ]
    limit = (lengths[0] + lengths[1]) // 2  # between the templated short and long prompt
    trainer = _trainer(
        policy,
        tmp_path,
        [LengthQuality(), _diversity(length_class)],
        dataset=Dataset.from_dict({"prompt": conversational}),
        max_prompt_length=limit,
    )
    assert len(trainer.train_dataset) == 2
    assert all(row["prompt"][0]["content"] == short for row in trainer.train_dataset)
    # Without the setting, nothing is dropped.
    kept = _trainer(
        policy,
        tmp_path,
        [LengthQuality(), _diversity(length_class)],
        dataset=Dataset.from_dict({"prompt": conversational}),
    )
    assert len(kept.train_dataset) == 4


def test_a_ready_darling_reward_is_used_as_it_is_and_conflicting_config_settings_warn(policy, tmp_path):
    from darling.rewards import DarlingReward

    reward = DarlingReward(LengthQuality(), _diversity(length_class), negative_quality="shift")
    with pytest.warns(UserWarning, match="keeps its own fusion='multiplicative'.*negative_quality='shift'"):
        trainer = _trainer(policy, tmp_path, [reward], max_steps=1)
    assert trainer.darling_reward is reward and reward.num_generations == 4
    assert trainer.reward_func_names == ["darling"]
    with pytest.raises(ValueError, match="pass it alone as reward_funcs=\\[darling_reward\\]"):
        _trainer(policy, tmp_path, [reward, LengthQuality()])


def test_evaluation_groups_num_generations_eval_rollouts_a_prompt(policy, tmp_path):
    quality = LengthQuality()
    trainer = _trainer(
        policy,
        tmp_path,
        [quality, _diversity(length_class)],
        max_steps=1,
        num_generations_eval=2,
        per_device_eval_batch_size=4,
    )
    metrics = trainer.evaluate(eval_dataset=Dataset.from_dict({"prompt": PROMPTS[:2]}))
    # Two prompts x 2 rollouts, scored in groups of 2 (groups of 4 would mix the two prompts and fail).
    texts, values = quality.seen[-1]
    fused = []
    for group, qualities in ((texts[:2], values[:2]), (texts[2:], values[2:])):
        for text, q in zip(group, qualities):
            size = sum(len(u) % 3 == len(text) % 3 for u in group)
            fused.append(q * max((2 - size) / 1, FLOOR))
    assert len(texts) == 4
    assert metrics["eval_darling/fused_reward_mean"] == pytest.approx(sum(fused) / 4)
    assert trainer.darling_reward.num_generations == 4  # back to the training group size
