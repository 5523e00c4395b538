"""NGramDiversityReward: the paper's 4-gram diversity baseline."""

from __future__ import annotations

import pickle

import pytest

from darling.rewards import NGramDiversityReward
from darling.rewards.ngram import ngram_novelty


def test_share_of_ngrams_found_in_no_other_rollout():
    texts = ["the cat sat on the mat", "the cat sat on a rug", "a dog ran far away now"]
    # 4-grams: text 0 has 3, one shared with text 1 ("the cat sat on"); text 2 shares none.
    assert ngram_novelty(texts, n=4) == pytest.approx([2 / 3, 2 / 3, 1.0])


def test_tokens_keep_case_and_punctuation_as_str_split_does():
    # The official reward splits on whitespace only: "One" and "six." are other tokens than "one", "six".
    texts = ["one two three four five six", "One two three four five six."]
    assert ngram_novelty(texts, n=4) == pytest.approx([2 / 3, 2 / 3])


def test_repeating_an_ngram_inside_a_rollout_lowers_its_score():
    # 10 tokens, 7 positions, a single distinct 4-gram: 1/7, not 1.0.
    assert ngram_novelty(["loop " * 10, "x y z w"], n=4) == pytest.approx([1 / 7, 1.0])
    # The denominator counts positions, not distinct n-grams.
    assert ngram_novelty(["A B A B A B", "a b x y"], n=2) == pytest.approx([2 / 5, 1.0])


def test_identical_rollouts_score_zero_and_a_group_of_one_scores_its_distinct_share():
    assert ngram_novelty(["one two three four five"] * 3, n=4) == [0.0, 0.0, 0.0]
    assert ngram_novelty(["one two three four five"], n=4) == [1.0]
    assert ngram_novelty(["a b c d a b c d"], n=4) == pytest.approx([4 / 5])


def test_rollout_shorter_than_n_scores_zero():
    assert ngram_novelty(["", "too short", "one two three four"], n=4) == [0.0, 0.0, 1.0]


def test_reward_groups_rollouts_and_applies_floor():
    reward = NGramDiversityReward(n=2, num_generations=2, floor=0.1)
    out = reward(prompts=["a", "a", "b", "b"], completions=["x y", "x y", "p q r", "p q s"])
    assert out == pytest.approx([0.1, 0.1, 0.5, 0.5])


def test_reward_infers_groups_and_reads_conversational_completions():
    reward = NGramDiversityReward(n=1)
    completions = [[{"role": "assistant", "content": t}] for t in ["red", "blue", "red", "red"]]
    assert reward(prompts=["a", "a", "b", "b"], completions=completions) == [1.0, 1.0, 0.0, 0.0]


def test_reward_logs_and_pickles():
    seen = {}
    reward = NGramDiversityReward(num_generations=2)
    reward(prompts=["p", "p"], completions=["a b c d e", "a b c d f"], log_metric=seen.__setitem__)
    assert seen == {"darling/mean_ngram_diversity": pytest.approx(0.5)}
    assert pickle.loads(pickle.dumps(reward)).__name__ == "ngram_diversity"


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"floor": -0.1}, {"num_generations": 0}])
def test_invalid_settings_raise(kwargs):
    with pytest.raises(ValueError):
        NGramDiversityReward(**kwargs)
    with pytest.raises(TypeError, match="`floor` must be a number, got None"):
        NGramDiversityReward(floor=None)


def test_flat_texts_and_bad_orders_are_errors_not_scores():
    with pytest.raises(TypeError, match=r"`groups\[0\]` is a single str.*\[texts\]"):
        NGramDiversityReward().score_groups(["a b c d e", "a b c d f"])
    with pytest.raises(ValueError, match="`n` must be a positive int, got 0"):
        ngram_novelty(["a b", "c d"], n=0)


def test_bad_input_raises():
    reward = NGramDiversityReward(num_generations=2)
    with pytest.raises(ValueError, match="2 prompts but 3 completions"):
        reward(prompts=["p", "p"], completions=["a", "b", "c"])
    with pytest.raises(TypeError, match=r"completions\[0\]` is None"):
        reward(prompts=["p", "p"], completions=[None, "b"])
    with pytest.raises(ValueError, match="not a multiple"):
        reward(prompts=["p"] * 3, completions=["a", "b", "c"])


def test_a_num_generations_that_is_not_the_group_size_is_an_error():
    with pytest.raises(ValueError, match="holds rollouts of different prompts"):
        NGramDiversityReward(n=1, num_generations=4)(
            prompts=["a", "a", "b", "b"], completions=["x", "y", "x", "y"]
        )
