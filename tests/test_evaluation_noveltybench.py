"""darling reproduces NoveltyBench's reported means from its own partitions and credited scores."""

from __future__ import annotations

import json

import pytest

from conftest import NOVELTYBENCH, requires_shared_data
from darling.evaluation import noveltybench_summary
from darling.evaluation.io import get_list_field, read_jsonl

MODELS = ("gemma-2-2b-it", "Llama-3.1-8B-Instruct")

pytestmark = [requires_shared_data, pytest.mark.shared_data]


def _load(model: str):
    path = NOVELTYBENCH / "generations" / f"curated_{model}.jsonl"
    records = read_jsonl(path)
    labels = [get_list_field(r, "partition", r["id"]) for r in records]
    scores = [get_list_field(r, "generation_scores", r["id"]) for r in records]
    reported = json.loads((NOVELTYBENCH / "generations" / f"curated_{model}.summary.json").read_text())
    return records, labels, scores, reported


@pytest.mark.parametrize("model", MODELS)
def test_reproduces_noveltybench_mean_distinct_and_mean_utility(model):
    records, labels, scores, reported = _load(model)
    assert len(records) == 100
    ours = noveltybench_summary(labels, scores, patience=0.8)
    assert ours["mean_distinct"] == pytest.approx(reported["mean_distinct"], abs=1e-9)
    assert ours["mean_utility"] == pytest.approx(reported["mean_utility"], abs=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_per_prompt_utility_matches_the_file(model):
    from darling.evaluation import utility

    records, labels, scores, _ = _load(model)
    for record, lab, sc in zip(records, labels, scores):
        assert utility(lab, sc) == pytest.approx(record["utility"], abs=1e-9), record["id"]


def test_the_historical_distinct_field_is_classes_minus_one():
    # The file's `distinct` is max(label); averaging it would under-report by exactly one class.
    records, _, _, reported = _load(MODELS[0])
    historical = sum(r["distinct"] for r in records) / len(records)
    assert historical == pytest.approx(reported["mean_distinct"] - 1)


def test_darling_partition_reads_noveltybench_files(tmp_path, capsys):
    from darling.cli import main

    source = NOVELTYBENCH / "generations" / f"curated_{MODELS[0]}.jsonl"
    out = tmp_path / "out.jsonl"
    assert (
        main(["partition", str(source), "--judge", "normalized", "--mode", "greedy", "--output", str(out)])
        == 0
    )
    records = read_jsonl(out)
    assert [r["id"] for r in records] == [r["id"] for r in read_jsonl(source)]
    for record in records:
        assert len(record["partition"]) == len(record["generations"]) == 10
        assert record["distinct"] == len(set(record["partition"]))
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["groups"] == 100
    assert summary["mean_distinct"] == pytest.approx(sum(r["distinct"] for r in records) / 100)
