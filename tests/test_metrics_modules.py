"""Each darling metric loads offline as a Hugging Face `evaluate` module and agrees with its function."""

from __future__ import annotations

import pytest

from darling import evaluation, metrics

evaluate = pytest.importorskip("evaluate")


@pytest.mark.parametrize("name", metrics.METRIC_NAMES)
def test_every_metric_loads_offline_from_the_package(name):
    module = evaluation.load_metric(name)
    assert isinstance(module, evaluate.EvaluationModule)
    assert "predictions" in module.features
    assert "Args:" in module.inputs_description  # documented inputs
    # The same module through the public path helper and evaluate.load directly.
    assert type(evaluate.load(metrics.path(name))).__name__ == type(module).__name__


def test_pass_at_k_module_matches_the_function():
    correct = [[1, 0, 0, 1, 0, 0, 0, 0], [0] * 8, [1] * 8]
    result = evaluation.load_metric("pass_at_k").compute(predictions=correct, k=[1, 4])
    assert result == pytest.approx(evaluation.mean_pass_at_k(8, [2, 0, 8], [1, 4]))
    assert result["pass@1"] == pytest.approx((2 / 8 + 0 + 1) / 3)


def test_noveltybench_module_returns_distinct_and_utility():
    module = evaluation.load_metric("noveltybench")
    result = module.compute(predictions=[[0, 0, 1], [0, 1, 2]], scores=[[10, 10, 5], [1, 2, 3]], patience=0.5)
    expected_utility = ((10 + 0.25 * 5) / 1.75 + (1 + 0.5 * 2 + 0.25 * 3) / 1.75) / 2
    assert result == pytest.approx({"mean_distinct": 2.5, "mean_utility": expected_utility})
    assert module.compute(predictions=[[0, 1]]) == {"mean_distinct": 2.0}


def test_noveltybench_module_darling_protocol_adds_quality():
    module = evaluation.load_metric("noveltybench")
    labels, scores = [[0, 0, 1], [0, 1, 2]], [[10, 8, 5], [1, 2, 3]]
    result = module.compute(predictions=labels, scores=scores, protocol="darling")
    assert result == pytest.approx(
        {"mean_distinct": 2.5, "mean_utility": (15 / 3 + 6 / 3) / 2, "mean_quality": (23 / 3 + 2) / 2}
    )
    assert result == pytest.approx(evaluation.noveltybench_summary(labels, scores, protocol="darling"))
    with pytest.raises(ValueError, match="Unknown NoveltyBench protocol"):
        module.compute(predictions=labels, scores=scores, protocol="fork")


def test_lexical_measurement_modules_match_the_functions():
    groups = [["a b c d", "a b c e"], ["x y", "x y", "z w"]]
    assert evaluation.load_metric("distinct_n").compute(predictions=groups, n=2)[
        "distinct_n"
    ] == pytest.approx((evaluation.distinct_n(groups[0], 2) + evaluation.distinct_n(groups[1], 2)) / 2)
    assert evaluation.load_metric("self_bleu").compute(predictions=groups, max_order=2)[
        "self_bleu"
    ] == pytest.approx((evaluation.self_bleu(groups[0], 2) + evaluation.self_bleu(groups[1], 2)) / 2)


def test_darling_diversity_module_matches_the_paper_example():
    result = evaluation.load_metric("darling_diversity").compute(
        predictions=[[0, 0, 1, 2], [0, 0]], floor=0.1
    )
    assert result["darling_diversity"] == pytest.approx(((2 / 3 + 2 / 3 + 1 + 1) / 4 + 0.1) / 2)


def test_embedding_diversity_module_with_the_real_minilm():
    from darling.partitioning.embedding import minilm_path

    groups = [["The cat sat on the mat.", "Stock prices fell sharply today."], ["same text", "same text"]]
    result = evaluation.load_metric("embedding_diversity").compute(predictions=groups, model=minilm_path())
    expected = sum(evaluation.embedding_diversity(g, minilm_path()) for g in groups) / 2
    assert result["embedding_diversity"] == pytest.approx(expected, abs=1e-5)
    assert result["embedding_diversity"] > 0.2
