"""Parity with the official DARLING code: its own outputs on fixed inputs, reproduced by darling's public API.

``../shared/fidelity/official_reference.json`` (beside the checkout, not shipped) holds what the
official reward functions (``partition``, ``partition_correct``, ``ngram``) and its fusion returned
on fixed inputs, the classifier replaced by an explicit relation (P = 0.9 for a listed pair, 0.1
otherwise, threshold 0.5). Every case of the sections below must be reproduced to 1e-4; the
NoveltyBench-fork section is checked in test_fidelity_noveltybench.py. A few cases are copied here
as literals so the suite guards them without ../shared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from darling.partitioning import ScoreJudge
from darling.rewards import DiversityRewardFunction, NGramDiversityReward
from darling.rewards.fusion import fuse_rewards, group_advantages

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "fidelity" / "official_reference.json"
TOLERANCE = 1e-4
# The fields of each section this file reproduces; a field the API cannot express fails loudly.
SECTIONS = {
    "partition_groups": {
        "texts",
        "equivalent_pairs",
        "partition_reward",
        "correct",
        "partition_correct_reward",
    },
    "ngram": {"texts", "n", "reward"},
    "fusion": {"quality", "diversity", "add_bias", "fused", "advantage"},
}
ELSEWHERE = {"noveltybench_darling_fork"}  # tests/test_fidelity_noveltybench.py
METADATA = {"source", "classifier_threshold_note"}


class RelationJudge(ScoreJudge):
    """The official harness's stand-in classifier: P = 0.9 for a listed pair, 0.1 otherwise, threshold 0.5."""

    threshold = 0.5

    def __init__(self, texts: Sequence[str], pairs: Sequence[Sequence[int]]) -> None:
        index = {text: i for i, text in enumerate(texts)}
        if len(index) != len(texts):
            raise ValueError("The relation is given by position; the texts of a case must be distinct.")
        self.index = index
        self.pairs = {frozenset(pair) for pair in pairs}

    def scores(self, pairs):
        return [0.9 if frozenset((self.index[a], self.index[b])) in self.pairs else 0.1 for a, b in pairs]


def _correct_column(prompts, completions, correct, **kwargs):
    return [1.0 if flag else 0.0 for flag in correct]


def partition_rewards(case: dict) -> tuple[list[float], list[float]]:
    """(partition, partition_correct) rewards of one case through DiversityRewardFunction, as TRL calls it."""
    texts = case["texts"]
    n = len(texts)
    judge = RelationJudge(texts, case["equivalent_pairs"])
    plain = DiversityRewardFunction(judge=judge, mode="all_pairs", floor=0.1, num_generations=n)
    correct_only = DiversityRewardFunction(
        judge=judge, mode="all_pairs", floor=0.1, num_generations=n, correctness_reward=_correct_column
    )
    prompts = ["prompt"] * n
    return (
        plain(prompts=prompts, completions=texts),
        correct_only(prompts=prompts, completions=texts, correct=case["correct"]),
    )


def ngram_rewards(case: dict) -> list[float]:
    reward = NGramDiversityReward(n=case["n"], num_generations=len(case["texts"]))
    return reward(prompts=["prompt"] * len(case["texts"]), completions=case["texts"])


def fusion_outputs(case: dict) -> tuple[list[float], list[float]]:
    quality = torch.tensor(case["quality"], dtype=torch.float32)
    diversity = torch.tensor(case["diversity"], dtype=torch.float32)
    n = len(case["quality"])
    fused = fuse_rewards(
        quality, diversity, negative_quality="shift" if case["add_bias"] else "allow", num_generations=n
    )
    return fused.tolist(), group_advantages(fused, num_generations=n).tolist()


def _load() -> dict:
    if not REFERENCE.is_file():
        pytest.skip(
            f"needs {REFERENCE} (../shared/fidelity beside the checkout, not shipped with the project)"
        )
    return json.loads(REFERENCE.read_text())


def _cases(section: str) -> list[tuple[str, dict]]:
    if not REFERENCE.is_file():
        return [pytest.param(None, id="no-reference", marks=pytest.mark.skip(reason=f"needs {REFERENCE}"))]
    cases = json.loads(REFERENCE.read_text())[section]
    return [pytest.param(case, id=f"{section}[{i}]") for i, case in enumerate(cases)]


def test_every_section_and_field_of_the_reference_is_reproduced_here():
    reference = _load()
    unknown = set(reference) - set(SECTIONS) - ELSEWHERE - METADATA
    assert not unknown, (
        f"official_reference.json has sections darling's parity tests do not reproduce: {unknown}"
    )
    for section, fields in SECTIONS.items():
        for i, case in enumerate(reference[section]):
            extra = set(case) - fields
            assert not extra, f"{section}[{i}] has fields darling's API cannot express yet: {sorted(extra)}"


@pytest.mark.parametrize("case", _cases("partition_groups"))
def test_partition_and_partition_correct_rewards_match_the_official_code(case):
    plain, correct_only = partition_rewards(case)
    assert plain == pytest.approx(case["partition_reward"], abs=TOLERANCE)
    assert correct_only == pytest.approx(case["partition_correct_reward"], abs=TOLERANCE)


@pytest.mark.parametrize("case", _cases("ngram"))
def test_ngram_reward_matches_the_official_code(case):
    assert ngram_rewards(case) == pytest.approx(case["reward"], abs=TOLERANCE)


@pytest.mark.parametrize("case", _cases("fusion"))
def test_fusion_and_advantages_match_the_official_code(case):
    fused, advantage = fusion_outputs(case)
    assert fused == pytest.approx(case["fused"], abs=TOLERANCE)
    assert advantage == pytest.approx(case["advantage"], abs=TOLERANCE)


# Literal copies of a few reference cases: the suite guards them without ../shared.


def test_literal_partition_case_with_a_chain_and_a_single_correct_group():
    chain = {
        "texts": [f"response {i} alpha beta gamma delta sea road wind" for i in range(6)],
        "equivalent_pairs": [[0, 5], [2, 3], [3, 4]],
        "correct": [True, True, False, True, True, False],
    }
    plain, correct_only = partition_rewards(chain)
    assert plain == pytest.approx([0.8, 1.0, 0.6, 0.6, 0.6, 0.8])
    # 3 and 4 stay joined directly; 2 is incorrect, 5 too: 0 and 1 are alone among 4 correct.
    assert correct_only == pytest.approx([1.0, 1.0, 0.1, 2 / 3, 2 / 3, 0.1])
    lone = {"texts": chain["texts"][:4], "equivalent_pairs": [], "correct": [True, False, False, False]}
    assert partition_rewards(lone) == ([1.0] * 4, [0.1] * 4)


def test_literal_short_text_case_uses_the_unigram_overlap_rule():
    case = {
        "texts": [
            "Paris",
            "paris",
            "It is Paris",
            "London",
            "the capital is London",
            "do it",
            "do not do it",
        ],
        "equivalent_pairs": [],
        "correct": [True, True, True, True, False, True, True],
    }
    plain, correct_only = partition_rewards(case)
    assert plain == pytest.approx([5 / 6, 5 / 6, 1.0, 1.0, 1.0, 5 / 6, 5 / 6])
    assert correct_only == pytest.approx([0.8, 0.8, 1.0, 1.0, 0.1, 0.8, 0.8])


def test_literal_ngram_cases_keep_case_punctuation_and_repetition():
    looped = {
        "texts": [
            "loop loop loop loop loop loop loop loop loop loop",
            "one two three four five six",
            "One two three four five six.",
        ],
        "n": 4,
    }
    assert ngram_rewards(looped) == pytest.approx([1 / 7, 2 / 3, 2 / 3])
    repeated = {"texts": ["a b c d a b c d a b c d", "x y z w", "x y z w"], "n": 4}
    assert ngram_rewards(repeated) == pytest.approx([4 / 9, 0.0, 0.0])


def test_literal_fusion_cases_with_and_without_add_bias():
    case = {"quality": [-1.5, 0.5, 2.0, -0.2, 1.0, 0.0], "diversity": [0.4, 0.4, 1.0, 0.6, 0.6, 1.0]}
    fused, advantage = fusion_outputs({**case, "add_bias": False})
    assert fused == pytest.approx([-0.6, 0.2, 2.0, -0.12, 0.6, 0.0], abs=TOLERANCE)
    assert advantage == pytest.approx(
        [-0.94667, -0.14667, 1.65333, -0.46667, 0.25333, -0.34667], abs=TOLERANCE
    )
    fused, advantage = fusion_outputs({**case, "add_bias": True})
    assert fused == pytest.approx([0.0, 0.8, 3.5, 0.78, 1.5, 1.5], abs=TOLERANCE)
    assert advantage == pytest.approx(
        [-1.34667, -0.54667, 2.15333, -0.56667, 0.15333, 0.15333], abs=TOLERANCE
    )
