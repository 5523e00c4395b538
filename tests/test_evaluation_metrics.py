"""Evaluation metrics against hand-worked values: pass@k, NoveltyBench, lexical and embedding diversity."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from darling.evaluation import (
    credited_scores,
    darling_diversity,
    distinct,
    distinct_n,
    mean_pass_at_k,
    noveltybench_summary,
    pass_at_k,
    self_bleu,
    utility,
)
from darling.evaluation.passk import pass_at_k_per_problem

# --- pass@k ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 1, 2, 1 - 3 / 6),  # 1 - C(3,2)/C(4,2)
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 1, 0.3),  # pass@1 is the fraction correct
        (4, 0, 2, 0.0),
        (4, 3, 2, 1.0),  # n - c < k: every draw of 2 holds a correct sample
        (4, 4, 4, 1.0),
    ],
)
def test_pass_at_k_hand_worked(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_product_form_matches_binomials_at_paper_scale():
    rng = random.Random(0)
    for _ in range(50):
        n, k = 256, rng.choice([1, 2, 8, 32, 128])
        c = rng.randint(0, n)
        exact = 1.0 if n - c < k else 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_pass_at_k_rejects_fewer_samples_than_k_and_names_the_problem():
    with pytest.raises(ValueError, match="pass@4 needs at least 4 samples"):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError, match="Problem 1"):
        pass_at_k_per_problem([8, 2], [1, 1], 4)


def test_pass_at_k_rejects_bad_counts():
    with pytest.raises(ValueError, match="num_correct"):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError, match="k >= 1"):
        pass_at_k(4, 1, 0)
    with pytest.raises(TypeError, match="integer"):
        pass_at_k(4, 1.5, 1)


def test_mean_pass_at_k_averages_over_problems_for_each_k():
    result = mean_pass_at_k(4, [0, 1, 4], [1, 2])
    assert list(result) == ["pass@1", "pass@2"]
    assert result["pass@1"] == pytest.approx((0 + 0.25 + 1) / 3)
    assert result["pass@2"] == pytest.approx((0 + 0.5 + 1) / 3)


def test_mean_pass_at_k_accepts_per_problem_sample_counts():
    result = mean_pass_at_k([2, 4], [1, 1], [2])
    assert result["pass@2"] == pytest.approx((1.0 + 0.5) / 2)
    with pytest.raises(ValueError, match="one per problem"):
        mean_pass_at_k([2, 4, 4], [1, 1], [1])
    # NumPy integers (e.g. from a DataFrame column) count as one sample count / one k.
    assert mean_pass_at_k(np.int64(4), [0, 1, 4], np.int64(2)) == mean_pass_at_k(4, [0, 1, 4], [2])


# --- NoveltyBench ---------------------------------------------------------------------------------


def test_distinct_counts_classes_not_the_largest_label():
    assert distinct([0, 1, 1, 2, 0]) == 3
    assert distinct([0, 0, 0]) == 1
    assert distinct([5, 9]) == 2


def test_credited_scores_zero_every_repeat_of_a_class():
    assert credited_scores([0, 1, 0, 2, 1], [8, 6, 9, 4, 7]) == [8.0, 6.0, 0.0, 4.0, 0.0]


def test_utility_is_patience_weighted_mean_of_credited_scores():
    expected = (8 + 0.8 * 6 + 0.64 * 0 + 0.512 * 4) / (1 + 0.8 + 0.64 + 0.512)
    assert utility([0, 1, 0, 2], [8, 6, 9, 4]) == pytest.approx(expected)


def test_utility_with_patience_one_is_the_plain_mean_and_zero_keeps_the_first():
    assert utility([0, 0, 1], [9, 9, 3], patience=1.0) == pytest.approx((9 + 0 + 3) / 3)
    assert utility([0, 1, 2], [7, 3, 3], patience=0.0) == pytest.approx(7.0)


def test_utility_of_already_credited_scores_is_unchanged():
    labels, raw = [0, 1, 0, 1], [5, 4, 6, 2]
    assert utility(labels, credited_scores(labels, raw)) == pytest.approx(utility(labels, raw))


def test_utility_rejects_bad_input():
    with pytest.raises(ValueError, match="one score per generation"):
        utility([0, 1], [3])
    with pytest.raises(ValueError, match="patience"):
        utility([0], [3], patience=1.5)
    with pytest.raises(TypeError, match=r"labels\[1\]"):
        utility([0, "a"], [3, 4])


def test_noveltybench_summary_means_over_prompts():
    summary = noveltybench_summary([[0, 0], [0, 1]], [[10, 10], [4, 6]], patience=0.5)
    assert summary["mean_distinct"] == pytest.approx(1.5)
    assert summary["mean_utility"] == pytest.approx((10 / 1.5 + (4 + 3) / 1.5) / 2)
    assert noveltybench_summary([[0, 1, 2]]) == {"mean_distinct": 3.0}
    with pytest.raises(ValueError, match="Prompt 1"):
        noveltybench_summary([[0], [0, 1]], [[1], [1]])


# --- lexical diversity ----------------------------------------------------------------------------


def test_distinct_n_counts_unique_ngrams_over_the_group():
    assert distinct_n(["a b a b", "a b c"], n=2) == pytest.approx(3 / 5)  # ab ba ab | ab bc
    assert distinct_n(["a b a b", "a b c"], n=1) == pytest.approx(3 / 7)
    assert distinct_n(["A b", "a B"], n=2) == pytest.approx(1 / 2)  # lower-cased
    assert distinct_n(["one two"], n=4) == 0.0
    assert distinct_n(["abab"], n=1, tokenizer=list) == pytest.approx(2 / 4)


def test_self_bleu_hand_worked_bigram_bleu():
    # "a b c d" vs "a b c e": p1 = 3/4, p2 = 2/3, equal lengths -> no brevity penalty; symmetric.
    assert self_bleu(["a b c d", "a b c e"], max_order=2) == pytest.approx(math.sqrt(3 / 4 * 2 / 3))


def test_self_bleu_brevity_penalty_uses_the_closest_reference_length():
    # "a b" vs refs of 4 and 1 tokens: closest is 1 (|1-2| < |4-2|), so no penalty although 4 > 2;
    # "a b c d": p1 = 2/4, no penalty; "a": p1 = 1, closest ref has 2 tokens -> exp(1 - 2/1).
    assert self_bleu(["a b", "a b c d", "a"], max_order=1) == pytest.approx((1.0 + 0.5 + math.exp(-1)) / 3)
    # "a b c" vs 5-token ref: p1 = 1, BP = exp(1 - 5/3); "a b c d e" vs 3-token ref: p1 = 3/5, BP = 1.
    expected = (math.exp(1 - 5 / 3) + 3 / 5) / 2
    assert self_bleu(["a b c", "a b c d e"], max_order=1) == pytest.approx(expected)


def test_self_bleu_clips_counts_to_the_references_without_the_hypothesis():
    # hyp "a a a a": "a" clipped to 2 (by "a a"), longer than every reference -> 2/4;
    # hyp "a a": clipped to 2 (by "a a a a", not by itself) -> 1.0; hyp "b": no match -> 0.
    expected = (0.5 + 1.0 + 0.0) / 3
    assert self_bleu(["a a a a", "a a", "b"], max_order=1) == pytest.approx(expected)


def test_self_bleu_smooths_a_precision_without_matches_with_epsilon():
    # p1 = 2/4, p2: no matching bigram -> 0.1 / 3 (NLTK method1).
    expected = math.sqrt(2 / 4 * 0.1 / 3)
    assert self_bleu(["a b c d", "a x c y"], max_order=2) == pytest.approx(expected)
    assert self_bleu(["a b c d", "a x c y"], max_order=2, epsilon=0.2) == pytest.approx(
        math.sqrt(0.5 * 0.2 / 3)
    )


def test_self_bleu_extremes_and_errors():
    assert self_bleu(["the cat sat down", "the cat sat down"]) == pytest.approx(1.0)
    assert self_bleu(["a b", "c d"]) == 0.0
    with pytest.raises(ValueError, match="at least two"):
        self_bleu(["alone"])
    with pytest.raises(ValueError, match=r"`epsilon` must be in \(0, 1\]"):
        self_bleu(["a b", "c d"], epsilon=0)  # would be log(0)
    with pytest.raises(ValueError, match="`max_order` must be an int"):
        self_bleu(["a b", "c d"], max_order=2.5)
    with pytest.raises(ValueError, match="an int n >= 1"):
        distinct_n(["a b"], n=2.5)


def test_darling_diversity_is_the_mean_of_the_paper_scores():
    assert darling_diversity([0, 0, 1, 2]) == pytest.approx((2 / 3 + 2 / 3 + 1 + 1) / 4)
    assert darling_diversity([0, 0, 0]) == 0.0
    assert darling_diversity([0, 0, 0], floor=0.1) == pytest.approx(0.1)
