"""MathAccuracyReward and verify_math_answer (math-verify)."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("math_verify")

from darling.rewards import MathAccuracyReward
from darling.rewards.math import verify_math_answer


@pytest.mark.parametrize(
    "completion, gold, expected",
    [
        (r"The answer is $\boxed{\frac{2}{6}}$.", r"\frac{1}{3}", 1.0),
        (r"So $x = \boxed{4}$", "4", 1.0),
        (r"So $x = \boxed{5}$", "4", 0.0),
        (r"$\boxed{x^2 + 1}$", "x^2+1", 1.0),
        ("I have no idea.", "4", 0.0),
        (r"\boxed{4}", r"The solution is $\boxed{4}$ after simplifying.", 1.0),
    ],
)
def test_verify_math_answer(completion, gold, expected):
    assert verify_math_answer(completion, gold) == expected


def test_unparsable_gold_is_none_not_zero():
    assert verify_math_answer(r"\boxed{4}", "no answer given") is None
    assert verify_math_answer(r"\boxed{4}", "") is None


def test_verify_math_answer_rejects_non_strings():
    with pytest.raises(TypeError, match="two strings"):
        verify_math_answer(None, "4")


def test_reward_reads_solution_or_answer_column_and_skips_unparsable_gold():
    reward = MathAccuracyReward()
    completions = [r"\boxed{2}", r"\boxed{3}", r"\boxed{2}"]
    assert reward(prompts=["q"] * 3, completions=completions, solution=["2", "2", "words only"]) == [
        1.0,
        0.0,
        None,
    ]
    assert reward(prompts=["q"] * 3, completions=completions, answer=[2, 2, 2]) == [1.0, 0.0, 1.0]


def test_reward_uses_configured_column_and_conversational_completions():
    reward = MathAccuracyReward(answer_column="gold")
    completions = [[{"role": "assistant", "content": r"\boxed{7}"}]]
    assert reward(prompts=[[{"role": "user", "content": "3+4?"}]], completions=completions, gold=["7"]) == [
        1.0
    ]


def test_missing_column_names_the_available_ones():
    with pytest.raises(ValueError, match=r"'solution' or 'answer'.*\['problem'\]"):
        MathAccuracyReward()(prompts=["q"], completions=["1"], problem=["q"], trainer_state=None)


def test_a_single_gold_answer_is_not_split_into_characters():
    for gold in ("22", 22, None):
        with pytest.raises(TypeError, match=r"one per completion.*got a single"):
            MathAccuracyReward()(prompts=["q", "q"], completions=[r"\boxed{2}", r"\boxed{2}"], answer=gold)


def test_logs_accuracy_over_scored_rollouts():
    seen = {}
    MathAccuracyReward()(
        prompts=["q"] * 3,
        completions=[r"\boxed{1}", r"\boxed{2}", r"\boxed{1}"],
        answer=["1", "1", "not math"],
        log_metric=seen.__setitem__,
    )
    assert seen == {"darling/math_accuracy": 0.5}


def test_works_outside_the_main_thread():
    # math-verify's timeouts use signal.alarm, which raises outside the main thread unless disabled.
    results, errors = [], []

    def run():
        try:
            results.append(
                MathAccuracyReward()(prompts=["q", "q"], completions=[r"\boxed{9}", "x"], answer=["9", "9"])
            )
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not errors, errors
    assert results == [[1.0, 0.0]]


@pytest.mark.parametrize(
    ("completion", "gold", "expected"),
    [
        # A bare LaTeX gold answer is read whole, not as its first number (DeepScaleR's gold answers are bare).
        ("\\boxed{1024}", "2^{10}", 1.0),
        ("\\boxed{2}", "2^{10}", 0.0),
        ("\\boxed{3\\sqrt{2}}", "3\\sqrt{2}", 1.0),
        ("\\boxed{3}", "3\\sqrt{2}", 0.0),
        ("\\boxed{x^2+1}", "1+x^{2}", 1.0),
        ("\\boxed{1}", "1+x^{2}", 0.0),
        # Solutions and prose still parse as they are.
        ("\\boxed{5}", "The final answer is 5", 1.0),
        ("\\boxed{7}", "Solution: we get $\\boxed{7}$", 1.0),
    ],
)
def test_bare_latex_gold_answers_are_parsed_whole(completion, gold, expected):
    assert verify_math_answer(completion, gold) == expected
