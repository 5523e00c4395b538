"""The evaluation examples run end to end in their smoke modes (tiny local models, offline)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from conftest import NOVELTYBENCH, REPO_ROOT, requires_shared_data


def _load_example(name: str):
    path = REPO_ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["eval_novelty", "eval_math_passk"])
def test_example_docstring_starts_with_the_command(name):
    module = _load_example(name)
    command = next(line.strip() for line in module.__doc__.splitlines() if line.strip().startswith("python "))
    assert command.startswith(f"python examples/{name}.py")


def test_eval_novelty_smoke_scores_partitions_and_summarizes(tmp_path):
    summary = _load_example("eval_novelty").main(["--smoke", "--output_dir", str(tmp_path)])
    assert summary["num_prompts"] == 3 and summary["num_samples"] == 10
    records = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    for record in records:
        assert all(1 <= s <= 4 for s in record["scores"])  # binned reward-model scores
        assert record["distinct"] == len(set(record["partition"]))
    assert summary["mean_utility"] == pytest.approx(sum(r["utility"] for r in records) / 3)


def test_eval_novelty_smoke_with_the_darling_protocol_adds_quality(tmp_path):
    summary = _load_example("eval_novelty").main(
        ["--smoke", "--protocol", "darling", "--output_dir", str(tmp_path)]
    )
    records = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert summary["protocol"] == "darling"
    for record in records:
        assert record["quality"] == pytest.approx(sum(record["scores"]) / 10)
    assert summary["mean_quality"] == pytest.approx(sum(r["quality"] for r in records) / 3)


@requires_shared_data
def test_eval_novelty_smoke_reads_the_curated_prompts_file(tmp_path):
    curated = NOVELTYBENCH / "prompts_curated.jsonl"
    _load_example("eval_novelty").main(["--smoke", "--dataset", str(curated), "--output_dir", str(tmp_path)])
    first = json.loads((tmp_path / "samples.jsonl").read_text().splitlines()[0])
    expected = json.loads(curated.read_text().splitlines()[0])
    assert (first["id"], first["prompt"]) == (expected["id"], expected["prompt"])


def test_eval_math_passk_smoke_writes_pass_at_k_for_every_k(tmp_path):
    overall = _load_example("eval_math_passk").main(["--smoke", "--output_dir", str(tmp_path)])
    assert list(overall["average"]) == [f"pass@{k}" for k in range(1, 9)]
    values = list(overall["average"].values())
    assert values == sorted(values)  # pass@k never decreases with k
    assert (tmp_path / "pass_at_k_average.png").stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text())["average"] == overall["average"]
    assert list(overall["average_maj"]) == [f"maj@{k}" for k in range(1, 9)]
    assert all(0.0 <= v <= 1.0 for v in overall["average_maj"].values())
    for summary in overall["datasets"].values():
        assert list(summary["maj@k"]) == [f"maj@{k}" for k in range(1, 9)]
