"""DarlingReward: the fused reward per rollout, on the official code's cases, split across processes,
called one group at a time in another process, and its logging and bad input."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import warnings
from pathlib import Path

import pytest

from darling.partitioning import CallableJudge, ExactMatchJudge
from darling.rewards import DarlingReward, DiversityRewardFunction
from darling.rewards.fusion import group_advantages
from test_rewards_diversity import Recorder, run_split

FIDELITY = Path(__file__).resolve().parents[2] / "shared" / "fidelity" / "official_reference.json"
requires_fidelity = pytest.mark.skipif(
    not FIDELITY.is_file(), reason="needs ../shared/fidelity/official_reference.json beside the checkout"
)


class FixedQuality:
    """A quality reward returning given values in order (picklable); ``None`` stays ``None``."""

    __name__ = "fixed_quality"

    def __init__(self, values):
        self.values = list(values)

    def __call__(self, prompts, completions, **kwargs):
        return [self.values[int(c.split()[-1])] for c in completions]


class FixedDiversity(DiversityRewardFunction):
    """The diversity reward with fixed scores (the official cases' diversities are not always a partition's)."""

    def __init__(self, scores):
        super().__init__(judge=ExactMatchJudge())
        self.scores = list(scores)

    def _score_groups(self, groups, correct):
        _, labels = super()._score_groups(groups, correct)
        return [[self.scores[int(text.split()[-1])] for text in group] for group in groups], labels


def length_quality(prompts, completions, **kwargs):
    return [float(len(c)) - 3.0 for c in completions]


def first_word(a: str, b: str) -> bool:
    return a.split()[0] == b.split()[0]


def _diversity(**kwargs) -> DiversityRewardFunction:
    return DiversityRewardFunction(judge=CallableJudge(first_word, short_text_rule="off"), **kwargs)


def _official_cases():
    if not FIDELITY.is_file():
        return []
    return json.loads(FIDELITY.read_text())["fusion"]


@requires_fidelity
@pytest.mark.parametrize("case", _official_cases())
def test_each_rollout_gets_the_official_codes_fused_reward_and_advantage(case):
    n = len(case["quality"])
    reward = DarlingReward(
        FixedQuality(case["quality"]),
        FixedDiversity(case["diversity"]),
        negative_quality="shift" if case["add_bias"] else "allow",
        num_generations=n,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the negative-quality warning of the raw cases
        fused = reward(prompts=["p"] * n, completions=[f"rollout {i}" for i in range(n)])
    assert fused == pytest.approx(case["fused"], abs=1e-6)
    # TRL's advantage with scale_rewards="none": fused - group mean.
    import torch

    assert group_advantages(torch.tensor(fused), n).tolist() == pytest.approx(case["advantage"], abs=1e-6)


def test_paper_example_with_a_real_partition():
    # 4 rollouts, two equivalent: diversity 2/3, 2/3, 1, 1; quality 1, 1, 0, 1.
    reward = DarlingReward(FixedQuality([1.0, 1.0, 0.0, 1.0]), _diversity(), num_generations=4)
    fused = reward(prompts=["p"] * 4, completions=["a 0", "a 1", "b 2", "c 3"])
    assert fused == pytest.approx([2 / 3, 2 / 3, 0.0, 1.0])


def test_quality_is_the_weighted_nansum_and_none_quality_gives_none():
    first = FixedQuality([1.0, None, None, 2.0])
    second = FixedQuality([0.5, 1.0, None, 0.0])
    second.__name__ = "second"
    reward = DarlingReward([first, second], _diversity(), quality_weights=[2.0, 1.0], num_generations=4)
    recorder = Recorder()
    fused = reward(
        prompts=["p"] * 4,
        completions=["a 0", "b 1", "c 2", "d 3"],
        log_metric=recorder,
        log_extra=recorder.extra,
    )
    # All distinct: diversity 1; quality = 2*q1 + q2 with None skipped; all-None -> None (TRL: no reward).
    assert fused[2] is None
    assert [fused[i] for i in (0, 1, 3)] == pytest.approx([2.5, 1.0, 4.0])
    assert recorder.metrics["darling/quality/fixed_quality_mean"] == pytest.approx(1.5)
    assert recorder.metrics["darling/quality/second_mean"] == pytest.approx(0.5)
    assert recorder.metrics["darling/quality_mean"] == pytest.approx((2.5 + 1.0 + 4.0) / 3)
    assert recorder.metrics["darling/fused_reward_mean"] == pytest.approx((2.5 + 1.0 + 4.0) / 3)
    assert recorder.metrics["darling/collapsed_groups"] == 0.0
    assert recorder.columns["darling/class"] == [0, 1, 2, 3]
    assert recorder.columns["darling/quality"] == [2.5, 1.0, None, 4.0]
    assert recorder.columns["darling/diversity"] == [1.0, 1.0, 1.0, 1.0]


def test_additive_fusion_adds_weighted_diversity():
    reward = DarlingReward(
        FixedQuality([-1.0, 2.0, 0.0, 0.0]),
        _diversity(),
        fusion="additive",
        diversity_weight=2.0,
        num_generations=4,
    )
    # Rollouts 0 and 1 share a class: diversity 2/3, 2/3, 1, 1.
    assert reward(prompts=["p"] * 4, completions=["a 0", "a 1", "b 2", "c 3"]) == pytest.approx(
        [-1 + 4 / 3, 2 + 4 / 3, 2.0, 2.0]
    )


def test_conversational_completions_and_dataset_columns_reach_the_quality_function():
    seen = {}

    def quality(prompts, completions, answer, **kwargs):
        seen["answer"], seen["completions"] = answer, completions
        return [1.0] * len(completions)

    reward = DarlingReward(quality, DiversityRewardFunction(judge=ExactMatchJudge()), num_generations=2)
    completions = [[{"role": "assistant", "content": "same"}], [{"role": "assistant", "content": "same"}]]
    fused = reward(
        prompts=[[{"role": "user", "content": "q"}]] * 2, completions=completions, answer=["4", "4"]
    )
    assert fused == pytest.approx([0.1, 0.1])  # one class: the floor
    assert seen == {"answer": ["4", "4"], "completions": completions}


def test_async_quality_functions_are_awaited():
    class AsyncQuality:
        __name__ = "async_quality"

        async def __call__(self, prompts, completions, **kwargs):
            return [2.0 for _ in completions]

    reward = DarlingReward([AsyncQuality(), FixedQuality([1.0, 0.0])], _diversity(), num_generations=2)
    assert reward(prompts=["p", "p"], completions=["a 0", "b 1"]) == pytest.approx([3.0, 2.0])


def test_negative_quality_is_multiplied_raw_with_one_warning():
    reward = DarlingReward(FixedQuality([-2.0, -1.0, 0.0, 1.0]), FixedDiversity([1.0, 2 / 3, 2 / 3, 1.0]))
    with pytest.warns(UserWarning, match="negative_quality='shift'") as caught:
        first = reward(prompts=["p"] * 4, completions=[f"r {i}" for i in range(4)])
        reward(prompts=["p"] * 4, completions=[f"r {i}" for i in range(4)])
    assert len([w for w in caught if "Quality rewards are negative" in str(w.message)]) == 1
    assert first == pytest.approx([-2.0, -2 / 3, 0.0, 1.0])


@pytest.mark.parametrize("num_generations", [4, None])
def test_shift_uses_the_whole_group_when_a_process_holds_half_of_it(monkeypatch, num_generations):
    # Quality = length - 3; group "b" (rows 4-7) is split 2 + 2 between two processes.
    prompts = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    completions = ["x 1", "x 22", "y", "z", "p 1", "q", "p 333", "p 4444", "m", "n", "o", "m 22"]

    def make():
        return DarlingReward(
            length_quality, _diversity(num_generations=num_generations), negative_quality="shift"
        )

    single = make()(prompts=prompts, completions=completions)
    split = run_split(monkeypatch, make, prompts, completions, [range(0, 6), range(6, 12)])
    assert split[0] + split[1] == pytest.approx(single)
    # Group b by hand: quality 0, -2, 2, 3 -> minus the group minimum -2: 2, 0, 4, 5; the three "p" rollouts
    # share a class (diversity 1/3), "q" is alone (1).
    assert single[4:8] == pytest.approx([2 / 3, 0.0, 4 / 3, 5 / 3])


def test_a_pickled_reward_scores_one_group_at_a_time_in_another_process():
    reward = DarlingReward(length_quality, _diversity(num_generations=4), negative_quality="shift")
    prompts = ["a"] * 4 + ["b"] * 4
    completions = ["x 1", "x 22", "y", "z", "p 1", "q", "p 333", "p 4444"]
    whole = reward(prompts=prompts, completions=completions)
    groups = [(prompts[i : i + 4], completions[i : i + 4]) for i in (0, 4)]
    # As TRL's async rollout worker does: a spawned process, the reward pickled into it, one group a call.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        per_group = pool.map(_score_group, [(pickle.dumps(reward), p, c) for p, c in groups])
    assert per_group[0] + per_group[1] == pytest.approx(whole)


def _score_group(args):
    payload, prompts, completions = args
    return pickle.loads(payload)(prompts=prompts, completions=completions)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"quality": "my/reward-model"},
            TypeError,
            "Wrap a reward model in darling.rewards.RewardModelReward",
        ),
        ({"quality": []}, ValueError, "at least one quality reward function"),
        ({"diversity": length_quality}, TypeError, "must be a darling.rewards.DiversityRewardFunction"),
        ({"fusion": "additive"}, ValueError, "needs diversity_weight"),
        ({"diversity_weight": 1.0}, ValueError, "only applies to fusion='additive'"),
        ({"negative_quality": "ignore"}, ValueError, "choose one of allow, shift"),
        ({"quality_weights": [1.0, 2.0]}, ValueError, "2 entries for 1 quality reward functions"),
        ({"quality_weights": [0.0]}, ValueError, "every quality function weight 0"),
        ({"num_generations": 0}, ValueError, "`num_generations` must be a positive int"),
    ],
)
def test_bad_settings_fail_when_the_reward_is_built(kwargs, error, match):
    arguments = {"quality": length_quality, "diversity": _diversity(), **kwargs}
    with pytest.raises(error, match=match):
        DarlingReward(arguments.pop("quality"), arguments.pop("diversity"), **arguments)


def test_a_quality_function_returning_the_wrong_length_is_named():
    reward = DarlingReward(FixedQuality([1.0, 1.0]), _diversity())
    reward.quality_funcs[0] = lambda prompts, completions, **kwargs: [1.0]
    with pytest.raises(ValueError, match="returned 1 rewards, but 2 were expected"):
        reward(prompts=["p", "p"], completions=["a 0", "b 1"])


def test_name_and_repr_say_what_is_fused():
    reward = DarlingReward(length_quality, _diversity(), fusion="additive", diversity_weight=0.5)
    assert reward.__name__ == "darling"
    assert "quality=['length_quality']" in repr(reward) and "diversity_weight=0.5" in repr(reward)


def test_async_quality_runs_while_the_diversity_judge_works():
    import asyncio
    import threading

    judged = threading.Event()

    def judge(a, b):
        judged.set()
        return a.split()[0] == b.split()[0]

    class WaitsForTheJudge:
        """Finishes only once the judge was called: it would time out if diversity ran after it."""

        __name__ = "waits_for_the_judge"

        async def __call__(self, prompts, completions, **kwargs):
            for _ in range(500):
                if judged.is_set():
                    return [1.0] * len(completions)
                await asyncio.sleep(0.01)
            raise TimeoutError("the diversity judge was not called while this quality reward waited")

    diversity = DiversityRewardFunction(judge=CallableJudge(judge, short_text_rule="off"), num_generations=2)
    reward = DarlingReward(WaitsForTheJudge(), diversity)
    assert reward(prompts=["p", "p"], completions=["a 0", "b 1"]) == [1.0, 1.0]
