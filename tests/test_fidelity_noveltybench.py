"""darling's "darling" NoveltyBench protocol gives the official fork's numbers (official_reference.json).

The DARLING authors' fork of NoveltyBench (``evals/novelty-bench/src/score.py`` and ``summarize.py``
of facebookresearch/darling) scores a prompt's generations as: utility = sum of the scores of each
class's first member / number of generations, quality = mean score of all generations, distinct =
number of classes. ``../shared/fidelity/official_reference.json`` holds that code's outputs on
fixed inputs; every case must come out of darling's public API within 1e-4. Two cases are copied
below as literals so the suite guards them without ../shared.
"""

from __future__ import annotations

import json

import pytest

from conftest import REPO_ROOT
from darling.evaluation import (
    distinct,
    load_metric,
    noveltybench_metrics,
    noveltybench_summary,
    quality,
    utility,
)

OFFICIAL_REFERENCE = REPO_ROOT.parent / "shared" / "fidelity" / "official_reference.json"
TOLERANCE = 1e-4

# Copied from official_reference.json (noveltybench_darling_fork, cases 0 and 1).
LITERAL_CASES = [
    {
        "scores": [7, 5, 9, 3, 8, 6, 4, 10, 2, 1],
        "partition": [0, 0, 1, 1, 2, 0, 3, 2, 4, 5],
        "utility": 3.1,
        "quality": 5.5,
        "distinct": 6,
    },
    {"scores": [5] * 10, "partition": [0] * 10, "utility": 0.5, "quality": 5.0, "distinct": 1},
]


def _official_cases() -> list[dict]:
    if not OFFICIAL_REFERENCE.is_file():
        pytest.skip(
            f"needs {OFFICIAL_REFERENCE} beside the checkout (the official code's outputs; not shipped)"
        )
    cases = json.loads(OFFICIAL_REFERENCE.read_text())["noveltybench_darling_fork"]
    assert cases, "official_reference.json holds no noveltybench_darling_fork case"
    return cases


def _check_case(case: dict) -> None:
    labels, scores = case["partition"], case["scores"]
    assert utility(labels, scores, protocol="darling") == pytest.approx(case["utility"], abs=TOLERANCE)
    assert quality(scores) == pytest.approx(case["quality"], abs=TOLERANCE)
    assert distinct(labels) == case["distinct"]
    expected = {key: case[key] for key in ("distinct", "utility", "quality")}
    assert noveltybench_metrics(labels, scores, protocol="darling") == pytest.approx(expected, abs=TOLERANCE)
    summary = noveltybench_summary([labels], [scores], protocol="darling")
    assert summary == pytest.approx({f"mean_{k}": v for k, v in expected.items()}, abs=TOLERANCE)


@pytest.mark.parametrize("index", range(len(LITERAL_CASES)))
def test_literal_fork_cases(index):
    _check_case(LITERAL_CASES[index])


def test_literal_cases_are_the_files_cases():
    # The copies must not drift from the file they were taken from.
    cases = _official_cases()
    assert cases[: len(LITERAL_CASES)] == LITERAL_CASES


def test_every_official_fork_case_through_the_functions():
    for index, case in enumerate(_official_cases()):
        try:
            _check_case(case)
        except AssertionError as err:
            raise AssertionError(f"noveltybench_darling_fork[{index}]: {err}") from None


def test_official_fork_cases_averaged_as_the_forks_summary():
    cases = _official_cases()
    summary = noveltybench_summary(
        [c["partition"] for c in cases], [c["scores"] for c in cases], protocol="darling"
    )
    for key in ("distinct", "utility", "quality"):
        assert summary[f"mean_{key}"] == pytest.approx(sum(c[key] for c in cases) / len(cases), abs=TOLERANCE)


def test_official_fork_cases_through_the_evaluate_module():
    pytest.importorskip("evaluate")
    cases = _official_cases()
    module = load_metric("noveltybench")
    for case in cases:
        result = module.compute(predictions=[case["partition"]], scores=[case["scores"]], protocol="darling")
        expected = {
            "mean_distinct": case["distinct"],
            "mean_utility": case["utility"],
            "mean_quality": case["quality"],
        }
        assert result == pytest.approx(expected, abs=TOLERANCE)


def _class_texts(labels: list[int]) -> list[str]:
    # Texts longer than five words (no short-text shortcut) that the exact judge groups as `labels`.
    return [f"this generation belongs to equivalence class number {label} of the fixture" for label in labels]


def test_official_fork_cases_through_darling_partition(tmp_path, capsys):
    from darling.cli import main

    cases = _official_cases()
    source = tmp_path / "generations.jsonl"
    source.write_text(
        "".join(
            json.dumps({"generations": _class_texts(c["partition"]), "scores": c["scores"]}) + "\n"
            for c in cases
        )
    )
    out = tmp_path / "partitions.jsonl"
    args = ["partition", str(source), "--judge", "exact", "--protocol", "darling", "--scores-field", "scores"]
    assert main([*args, "--output", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    for case, record in zip(cases, records, strict=True):
        assert record["partition"] == case["partition"]
        assert record["distinct"] == case["distinct"]
        assert record["utility"] == pytest.approx(case["utility"], abs=TOLERANCE)
        assert record["quality"] == pytest.approx(case["quality"], abs=TOLERANCE)
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["protocol"] == "darling" and summary["mode"] == "greedy"
    assert summary["mean_quality"] == pytest.approx(
        sum(c["quality"] for c in cases) / len(cases), abs=TOLERANCE
    )


class _FixedGenerator:
    """Stands in for a policy: returns each prompt's fixture texts."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups

    def generate(self, prompts, num_samples, seed=None):
        return [self.groups[p] for p in prompts]


def test_official_fork_cases_through_darling_evaluate(tmp_path):
    from darling.evaluation import EvaluationConfig, run_evaluation

    cases = _official_cases()
    prompts = {f"prompt {i}": case for i, case in enumerate(cases)}
    data = tmp_path / "prompts.jsonl"
    data.write_text("".join(json.dumps({"id": p, "prompt": p}) + "\n" for p in prompts))
    config = EvaluationConfig(
        model="unused",
        dataset=str(data),
        output_dir=str(tmp_path / "run"),
        num_samples=len(cases[0]["scores"]),
        judge="exact",
        protocol="darling",
        plots=False,
        progress=False,
    )

    def scorer(items, generations):
        return [prompts[item.prompt]["scores"] for item in items]

    generator = _FixedGenerator({p: _class_texts(c["partition"]) for p, c in prompts.items()})
    summary = run_evaluation(config, generator=generator, scorer=scorer)
    records = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    for record in records:
        case = prompts[record["prompt"]]
        assert record["partition"] == case["partition"]
        assert record["utility"] == pytest.approx(case["utility"], abs=TOLERANCE)
        assert record["quality"] == pytest.approx(case["quality"], abs=TOLERANCE)
    for key in ("distinct", "utility", "quality"):
        assert summary[f"mean_{key}"] == pytest.approx(sum(c[key] for c in cases) / len(cases), abs=TOLERANCE)
    assert summary["protocol"] == "darling"
