"""benchmarks/training_overhead.py: GRPO and DARLING steps on the same tiny policy, timed in one run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))  # the benchmark scripts import their sibling helpers

import training_overhead  # noqa: E402


def test_training_overhead_times_both_trainers_and_counts_the_judged_pairs(tmp_path):
    report, output = tmp_path / "overhead.md", tmp_path / "overhead.json"
    argv = ["--group-sizes", "2", "3", "--steps", "1", "--max-completion-length", "8"]
    training_overhead.main([*argv, "--output", str(output), "--report", str(report)])
    rows = json.loads(output.read_text())["rows"]
    assert [row["group_size"] for row in rows] == [2, 3]
    for row, pairs in zip(rows, (1, 3)):  # n(n-1)/2 pairs a prompt, 2 prompts a step, short-text rule off
        assert 0 < row["judged_pairs"] <= 2 * pairs
        assert 0 < row["diversity_s"] < row["darling_step_s"]
    text = report.read_text()
    assert "| group size | GRPO step (s) | DARLING step (s) |" in text and text.count("\n| ") == 3
