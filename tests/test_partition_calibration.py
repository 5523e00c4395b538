"""calibrate_cascade: cut-offs chosen for partition agreement on sample groups."""

import math
import random
import zlib

import pytest

from darling.partitioning import (
    CascadeJudge,
    ExactMatchJudge,
    Judge,
    LexicalJudge,
    ScoreJudge,
    calibrate_cascade,
    partition_groups,
)
from darling.partitioning.calibration import CascadeCalibration


def topic(text: str) -> int:
    return int(text.split(":")[0])


class TopicJudge(Judge):
    """The 'expensive' judge: same topic number. Records every pair it is asked."""

    short_text_rule = "off"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def equivalent(self, pairs):
        self.asked += list(pairs)
        return [topic(a) == topic(b) for a, b in pairs]


class NoisyTopicScore(ScoreJudge):
    """A cheap scorer that is right about far-apart topics and unsure about neighbouring ones."""

    short_text_rule = "off"

    def scores(self, pairs):
        return [1.0 / (1.0 + abs(topic(a) - topic(b))) for a, b in pairs]


class RandomScore(ScoreJudge):
    """A cheap scorer that knows nothing: deterministic noise per pair."""

    short_text_rule = "off"

    def scores(self, pairs):
        return [random.Random(zlib.crc32(f"{a}|{b}".encode())).random() for a, b in pairs]


def make_groups(seed: int, count: int = 12, size: int = 8) -> list[list[str]]:
    rng = random.Random(seed)
    return [[f"{rng.randrange(6)}: text {g}-{i}" for i in range(size)] for g in range(count)]


@pytest.mark.parametrize("mode", ["all_pairs", "greedy"])
def test_calibration_settles_clear_pairs_and_keeps_partitions(mode):
    groups = make_groups(0)
    exact = TopicJudge()
    cascade = calibrate_cascade(NoisyTopicScore(), exact, groups, mode=mode, show_progress=False)
    cal = cascade.calibration
    assert isinstance(cascade, CascadeJudge) and isinstance(cal, CascadeCalibration)
    assert cal.mode == mode and cal.num_groups == len(groups)
    # Topics two or more apart score <= 1/3 and are always different: those get settled.
    assert cal.low >= 1 / 3 - 1e-9
    assert cal.agreement == 1.0  # the scorer is never wrong below 1/2 on this data
    assert cal.exact_pairs_per_group < cal.reference_pairs_per_group
    assert cal.exact_pair_ratio > 1.0
    # The expensive judge was asked each distinct pair at most once during the whole search.
    assert len(exact.asked) == len(set(exact.asked))
    distinct = sum(len(g) * (len(g) - 1) // 2 for g in groups)
    assert len(exact.asked) <= distinct

    # On new groups the cascade gives the exact partitions with fewer expensive calls.
    held_out = make_groups(1)
    reference = partition_groups(held_out, TopicJudge(), mode=mode)
    exact.asked.clear()
    cascade.exact_pairs_total = 0
    approx = partition_groups(held_out, cascade, mode=mode)
    assert [r.labels for r in approx] == [r.labels for r in reference]
    assert cascade.exact_pairs_total < sum(r.judged_pairs for r in reference)


def test_calibration_with_an_uninformed_scorer_keeps_the_agreement_asked_for():
    groups = make_groups(2)
    cascade = calibrate_cascade(
        RandomScore(), TopicJudge(), groups, min_agreement=1.0, num_candidates=20, show_progress=False
    )
    cal = cascade.calibration
    assert cal.agreement == 1.0
    assert cal.exact_pairs_per_group <= cal.reference_pairs_per_group
    # Re-running the chosen cascade on the same groups reproduces the measured agreement and cost.
    reference = partition_groups(groups, TopicJudge())
    cascade.exact_pairs_total = 0
    again = partition_groups(groups, cascade)
    assert [r.labels for r in again] == [r.labels for r in reference]
    assert cascade.exact_pairs_total / len(groups) == pytest.approx(cal.exact_pairs_per_group)


def test_settling_nothing_is_the_fallback():
    # Identical-looking scores for every pair: any cut-off settles all pairs at once, which breaks
    # partitions with more than one class, so only "settle nothing" reaches full agreement.
    class Flat(ScoreJudge):
        def scores(self, pairs):
            return [0.5] * len(pairs)

    groups = [["0: a", "0: b", "1: c"], ["2: d", "3: e", "2: f"]]
    cascade = calibrate_cascade(Flat(), TopicJudge(), groups, min_agreement=1.0, show_progress=False)
    assert cascade.low == -math.inf and cascade.high == math.inf
    assert cascade.calibration.exact_pairs_per_group == cascade.calibration.reference_pairs_per_group


def test_calibration_accepts_any_exact_judge_and_keeps_the_short_text_rule():
    groups = [
        ["a red cat", "a red cat!", "a blue dog", "A red cat"],
        ["one two three", "one two three.", "four"],
    ]
    cascade = calibrate_cascade(
        LexicalJudge(),
        lambda a, b: a.lower().strip("!.") == b.lower().strip("!."),
        groups,
        short_text_rule="off",
        show_progress=False,
    )
    assert cascade.short_text_rule == "off"
    assert cascade.calibration.agreement >= 0.95
    assert partition_groups(groups, cascade)[0].labels == [0, 0, 1, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "pairs"}, "Unknown partition mode"),
        ({"min_agreement": 0.0}, "min_agreement"),
        ({"min_agreement": 1.5}, "min_agreement"),
        ({"num_candidates": 1}, "num_candidates"),
    ],
)
def test_calibration_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        calibrate_cascade(LexicalJudge(), ExactMatchJudge(), [["a", "b"]], show_progress=False, **kwargs)


def test_calibration_needs_a_scoring_fast_judge_and_groups():
    with pytest.raises(TypeError, match="must score pairs"):
        calibrate_cascade(ExactMatchJudge(), ExactMatchJudge(), [["a", "b"]], show_progress=False)
    with pytest.raises(TypeError, match=r"`groups\[0\]` is a single str"):
        calibrate_cascade(LexicalJudge(), ExactMatchJudge(), ["a red cat", "a blue dog"], show_progress=False)
    with pytest.raises(ValueError, match="at least one sample group"):
        calibrate_cascade(LexicalJudge(), ExactMatchJudge(), [], show_progress=False)
