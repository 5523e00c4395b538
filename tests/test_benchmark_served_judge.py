"""benchmarks/served_judge.py on a tiny classifier and a few made-up groups: served partitions equal in-process."""

from __future__ import annotations

import importlib.util
import json

from conftest import REPO_ROOT


def _module():
    spec = importlib.util.spec_from_file_location(
        "served_judge", REPO_ROOT / "benchmarks" / "served_judge.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_served_judge_benchmark_times_every_setup_and_finds_the_same_partitions(tmp_path):
    generations = tmp_path / "generations"
    generations.mkdir()
    topics = ["a dragon who reads", "a boy and his dog", "the capital of France", "a coffee shop name"]
    with open(generations / "curated_tiny.jsonl", "w") as handle:
        for index, topic in enumerate(topics):
            texts = [
                f"Story {k} about {topic}, told in a different way number {k * index}." for k in range(5)
            ]
            handle.write(json.dumps({"id": f"p{index}", "generations": texts, "partition": [0] * 5}) + "\n")
    out = tmp_path / "served.json"
    result = _module().main(
        ["--tiny", "--generations", str(generations), "--groups", "4", "--output", str(out)]
    )
    assert json.loads(out.read_text()) == result
    assert [row["setup"].split(" (")[0] for row in result["rows"]] == ["in-process", "served x1", "served x2"]
    assert all(row["same_partitions"] for row in result["rows"]) and result["judged_pairs"] > 0
    assert result["rows"][0]["ratio_to_in_process"] == 1.0 and result["client_overhead_us_per_pair"] > 0
    # Served P(equivalent) of every probe pair equals the in-process one: no verdict flips.
    assert result["probe_pairs"] == 4 * 10
    assert all(row["max_abs_diff"] < 1e-5 and row["flipped_verdicts"] == 0 for row in result["rows"])
