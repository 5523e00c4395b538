"""maj@k as the DARLING authors' math evaluation computes it: majority vote, ties to the first answer."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import numpy as np
import pytest

from darling.evaluation import (
    EvaluationConfig,
    answer_classes,
    extract_answer,
    load_metric,
    maj_at_k,
    majority_vote,
    mean_maj_at_k,
    run_evaluation,
)

pytest.importorskip("math_verify")


def test_majority_vote_picks_the_most_common_and_breaks_ties_by_first_occurrence():
    assert majority_vote(["5", "3", "5"]) == 0
    assert majority_vote(["3", "5", "5"]) == 1  # the first member of the winning class
    assert majority_vote(["7", "3", "3", "7"]) == 0  # tie: "7" came first
    assert majority_vote([None, None, "2"]) == 0  # "no answer" can win
    with pytest.raises(ValueError, match="at least one"):
        majority_vote([])


def test_first_k_vote_as_rm_maj_eval():
    answers, correct = ["4", "5", "4", "5", "5"], [1, 0, 1, 0, 0]
    assert [maj_at_k(answers, correct, k, resamples=None) for k in range(1, 6)] == [1.0, 1.0, 1.0, 1.0, 0.0]
    # a missing answer is never correct, even when it wins
    assert maj_at_k([None, None, "4"], [0, 0, 1], 3, resamples=None) == 0.0


def _official_bootstrap_expectation(answers, correct, k):
    """Exact mean of math_eval_parallel.py's bootstrap: all n**k equally likely draws with replacement."""
    n, wins = len(answers), 0
    for draw in itertools.product(range(n), repeat=k):
        preds = [answers[i] for i in draw]
        majority = Counter(preds).most_common(1)[0][0]
        wins += correct[draw[preds.index(majority)]]
    return wins / n**k


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_resampled_maj_at_k_converges_to_the_official_bootstrap(k):
    answers, correct = ["4", "5", "5", "4", "6"], [1, 0, 0, 1, 0]
    exact = _official_bootstrap_expectation(answers, correct, k)
    estimate = maj_at_k(answers, correct, k, resamples=20_000, seed=3)
    assert estimate == pytest.approx(exact, abs=0.015)


def test_resampled_maj_at_k_is_seeded():
    answers, correct = ["1", "2", "2", "1", "3", "1"], [1, 0, 0, 1, 0, 1]
    first = maj_at_k(answers, correct, 3)  # 30 draws, as the official script
    assert first == maj_at_k(answers, correct, 3)
    assert 0.0 < first < 1.0 and (first * 30).is_integer()
    assert maj_at_k(answers, correct, 3, seed=np.random.default_rng(0)) == first


def test_maj_at_k_rejects_bad_input():
    with pytest.raises(ValueError, match="1 <= k <= 2"):
        maj_at_k(["1", "2"], [1, 0], 3)
    with pytest.raises(ValueError, match="one per sample"):
        maj_at_k(["1", "2"], [1], 1)
    with pytest.raises(ValueError, match="resamples"):
        maj_at_k(["1", "2"], [1, 0], 1, resamples=0)


def test_mean_maj_at_k_averages_problems_with_independent_draws():
    labels = [["4", "4", "5"], ["1", "2", "2"]]
    correct = [[1, 1, 0], [1, 0, 0]]
    assert mean_maj_at_k(labels, correct, [1, 3], resamples=None) == {"maj@1": 1.0, "maj@3": 0.5}
    both = mean_maj_at_k(labels, correct, [2], seed=7)["maj@2"]
    alone = [
        maj_at_k(lab, cor, 2, seed=np.random.default_rng([7, i, 2]))
        for i, (lab, cor) in enumerate(zip(labels, correct))
    ]
    assert both == pytest.approx(sum(alone) / 2)
    with pytest.raises(ValueError, match="Problem 1"):
        mean_maj_at_k([["1", "2"], ["1"]], [[1, 0], [1]], 2)


def test_numpy_integers_are_integers():
    labels, correct = [["4", "4", "5"], ["1", "2", "2"]], [[1, 1, 0], [1, 0, 0]]
    plain = mean_maj_at_k(labels, correct, [1, 3], resamples=5)
    from_numpy = mean_maj_at_k(labels, correct, np.array([1, 3]), resamples=np.int64(5))
    assert from_numpy == plain and all(type(value) is float for value in from_numpy.values())
    assert mean_maj_at_k(labels, correct, np.int64(3), resamples=None) == {"maj@3": 0.5}


def test_extract_answer_reads_what_math_verify_reads():
    assert extract_answer("so the answer is $\\boxed{\\frac{2}{6}}$") == "\\frac{2}{6}"
    assert extract_answer("The answer is 0.5") == "0.5"
    assert extract_answer("no idea") is None


def test_answer_classes_group_what_math_verify_calls_equal():
    answers = ["\\frac{1}{2}", "0.5", "3", None, "1/2", None, "x^2+1", "1+x^{2}", "3\\sqrt{2}", "\\sqrt{18}"]
    assert answer_classes(answers) == [0, 0, 1, 2, 0, 2, 3, 3, 4, 4]
    assert answer_classes(answers, match="exact") == [0, 1, 2, 3, 4, 3, 5, 6, 7, 8]
    # Bare LaTeX is compared whole, not by its first number: 3\sqrt{2} is not 3, 2^{10} is not 2.
    assert answer_classes(["3", "3\\sqrt{2}", "2", "2^{10}", "1024"]) == [0, 1, 2, 3, 3]
    with pytest.raises(ValueError, match="math_verify, exact"):
        answer_classes(answers, match="sympy")
    with pytest.raises(TypeError, match="a string"):
        answer_classes("42")


def test_grouping_decides_the_vote():
    # Two spellings of 1/2 against two votes for 3: equal answers pool their votes under math-verify.
    answers, correct = ["\\frac{1}{2}", "3", "0.5", "3"], [1, 0, 1, 0]
    assert maj_at_k(answer_classes(answers), correct, 4, resamples=None) == 1.0
    assert maj_at_k(answer_classes(answers, match="exact"), correct, 4, resamples=None) == 0.0


def test_maj_at_k_module_matches_the_function():
    pytest.importorskip("evaluate")
    predictions = [["\\frac{1}{2}", "0.5", "3", None], ["7", "7", "8", "8"]]
    correct = [[1, 1, 0, 0], [0, 0, 1, 1]]
    module = load_metric("maj_at_k")
    result = module.compute(predictions=predictions, correct=correct, k=[1, 4], seed=1)
    labels = [answer_classes(p) for p in predictions]
    assert result == mean_maj_at_k(labels, correct, [1, 4], seed=1)
    assert module.compute(predictions=predictions, correct=correct, k=[4], resamples=None) == {"maj@4": 0.5}
    with pytest.raises(ValueError, match="needs `correct`"):
        module.compute(predictions=predictions, k=[1])


# --- darling evaluate --task math -----------------------------------------------------------------

COMPLETIONS = {
    "What is 2+2?": ["\\boxed{4}", "it is \\boxed{5}", "\\boxed{4.0}", "\\boxed{5}"],
    "What is 1/2 as a decimal?": ["\\boxed{0.5}", "\\boxed{\\frac{1}{2}}", "\\boxed{0.25}", "I give up"],
}


class _FixedGenerator:
    def generate(self, prompts, num_samples, seed=None):
        return [COMPLETIONS[p] for p in prompts]


def _run(tmp_path, **overrides):
    data = tmp_path / "math.jsonl"
    data.write_text(
        json.dumps({"problem": "What is 2+2?", "answer": "4"})
        + "\n"
        + json.dumps({"problem": "What is 1/2 as a decimal?", "answer": "0.5"})
        + "\n"
    )
    values = dict(model="unused", dataset=str(data), output_dir=str(tmp_path / "run"), task="math")
    values.update(num_samples=4, k_list=[1, 2, 4], judge="none", plots=False, progress=False, **overrides)
    return run_evaluation(EvaluationConfig(**values), generator=_FixedGenerator())


def _records(tmp_path):
    return [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]


def test_math_records_keep_answers_and_summary_has_maj_at_k(tmp_path):
    summary = _run(tmp_path, maj_resamples=0)
    first, second = _records(tmp_path)
    assert first["answers"] == ["4", "5", "4.0", "5"] and first["answer_classes"] == [0, 1, 0, 1]
    assert first["scores"] == [1.0, 0.0, 1.0, 0.0]
    assert second["answers"] == ["\\frac{1}{2}", "\\frac{1}{2}", "0.25", None]  # as math-verify writes them
    assert second["answer_classes"] == [0, 0, 1, 2]
    # first k samples: problem 1 ties 4/5 (4 first), problem 2 has 0.5 twice.
    assert summary["maj@k"] == {"maj@1": 1.0, "maj@2": 1.0, "maj@4": 1.0}
    assert (
        list(summary["maj@k"])
        == [f"maj@{k}" for k in (1, 2, 4)]
        == [p.replace("pass", "maj") for p in summary["pass@k"]]
    )


def test_math_summary_resamples_by_default_and_reads_old_records(tmp_path):
    summary = _run(tmp_path)
    records = _records(tmp_path)
    expected = mean_maj_at_k(
        [r["answer_classes"] for r in records], [r["scores"] for r in records], [1, 2, 4], seed=0
    )
    assert summary["maj@k"] == expected
    # A run written before answers were kept: the summary extracts them from the generations.
    stripped = [{k: v for k, v in r.items() if k not in ("answers", "answer_classes")} for r in records]
    (tmp_path / "run" / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in stripped))
    assert _run(tmp_path)["maj@k"] == expected


def test_maj_resamples_must_not_be_negative(tmp_path):
    with pytest.raises(ValueError, match="--maj-resamples"):
        EvaluationConfig(model="m", dataset="d.jsonl", output_dir=str(tmp_path), maj_resamples=-1)
